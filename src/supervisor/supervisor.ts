import type { Logger } from 'pino';
import { defaults } from '../config/defaults.js';
import { isDefaultRunDir, type Options } from '../config/options.js';
import { runDirPaths } from '../config/run-dir.js';
import type { Daemon, StopOptions } from '../control/dispatch.js';
import { ControlServer } from '../control/server.js';
import type { ReloadMode, ReloadResult, ReloadTrigger, Status } from '../control/types.js';
import { ReloadFailedError } from '../control/reload-failed.js';
import { ReloadError } from '../errors.js';
import { configChecker } from '../haproxy/check.js';
import { haproxyEnv } from '../haproxy/environment.js';
import { fragmentPath, writeFragment } from '../haproxy/supervisor-socket.js';
import { loadConfig } from '../haproxy/config-load.js';
import { releasePidfile } from '../system/pidfile.js';
import { takeRunDir } from '../system/run-dir.js';
import { version } from '../version.js';
import { ConfigWatcher } from '../watch/config-watcher.js';
import { claimConfig } from './config-claim.js';
import { Fleet } from './fleet.js';
import { publicGeneration } from './generation.js';
import type { SupervisorEvents } from './notify-policy.js';
import { ReloadHistory } from './reload-history.js';
import { ReloadQueue } from './reload-queue.js';
import { ReloadTransaction, type ReloadBatch } from './reload.js';
import { Liveness } from './liveness.js';
import { loadState, StateStore } from './state-file.js';

export type { StopOptions };

/**
 * The daemon, composed: the fleet (every live haproxy generation), the reload queue and transaction, crash
 * respawn, the config watcher, state.json, the control socket and systemd events. It owns the supervisor's own
 * lifecycle (starting → running → stopping) and what follows each reload.
 */
export class Supervisor implements Daemon {
  readonly #options: Options;
  readonly #log: Logger;
  readonly #events: SupervisorEvents | undefined;
  readonly #paths: ReturnType<typeof runDirPaths>;
  readonly #startedAt = new Date().toISOString();
  readonly #fleet: Fleet;
  readonly #history = new ReloadHistory(1, defaults.historySize);
  readonly #queue = new ReloadQueue<ReloadMode, ReloadTrigger, ReloadResult>((batch) => this.#reload(batch));
  readonly #transaction: ReloadTransaction;
  readonly #liveness: Liveness;
  readonly #watcher: ConfigWatcher | undefined;
  #store: StateStore | undefined;
  #server: ControlServer | undefined;
  #state: Status['supervisor']['state'] = 'starting';
  #stopping: Promise<void> | undefined;
  #ownsPidfile = false;
  #stoppedResolve!: () => void;
  /** Resolves once a stop has finished: every generation exited. */
  readonly stopped = new Promise<void>((resolve) => {
    this.#stoppedResolve = resolve;
  });

  constructor(options: Options, log: Logger, events?: SupervisorEvents) {
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#paths = runDirPaths(options.runDir);
    this.#fleet = new Fleet({ ...options, historySize: defaults.historySize, log });
    this.#fleet.on('changed', () => this.#save());
    const respawn = { backoffMs: options.respawnBackoffMs, backoffMaxMs: options.respawnBackoffMaxMs, resetAfterMs: options.respawnResetAfterMs };
    this.#liveness = new Liveness({ respawn, watchdog: { intervalMs: options.watchdogIntervalMs, misses: options.watchdogMisses } }, this.#fleet, this.#queue, log);
    const watch = { config: options.config, quietMs: options.watchQuietMs, maxWaitMs: options.watchMaxWaitMs, log: log.child({ component: 'watch' }) };
    this.#watcher = options.watch ? new ConfigWatcher(watch, () => this.#queue.request('reload', 'watch')) : undefined;
    this.#transaction = new ReloadTransaction({
      fleet: this.#fleet,
      checker: configChecker({ ...options, fragment: fragmentPath(options.runDir), env: haproxyEnv('/nonexistent/check.sock'), timeoutMs: options.readyTimeoutMs }),
      ids: this.#history,
      baseline: this.#watcher,
      settings: options,
      log,
    });
  }

  /**
   * Takes the run dir (pidfile first: a second supervisor touches nothing), opens the control socket, adopts what
   * a previous supervisor left running and starts the first generation (hitless over an adopted active one).
   * Resolves with that start's result; throws ReloadFailedError when nothing serves (after cleaning up).
   */
  async start(): Promise<ReloadResult> {
    const { runDir, socketGroup } = this.#options;
    const access = takeRunDir(runDir, this.#paths.pidfile, { socketGroup, checkParent: isDefaultRunDir(runDir) });
    this.#ownsPidfile = true;
    let adopted;
    try {
      const persisted = await loadState(this.#paths.state);
      await writeFragment(runDir);
      this.#server = await ControlServer.listen(this.#paths.control, this, this.#log.child({ component: 'control' }), access.gid);
      this.#history.continueFrom(persisted.nextReloadId);
      this.#store = new StateStore(this.#paths.state, this.#log, access);
      adopted = this.#fleet.restore(persisted.generations, persisted.nextGenerationId);
      claimConfig(loadConfig(this.#options.config), adopted.map((generation) => generation.pid), this.#options.allowSharedPorts, this.#log);
    } catch (error) {
      await this.#abort();
      throw error;
    }
    this.#log.info({ runDir, config: this.#options.config }, 'supervisor started');
    const result = await this.reload(adopted.some((generation) => generation.state === 'active') ? 'reload' : 'start', 'start');
    if (this.#fleet.active() === undefined) {
      // Nothing serves. Generations we spawned are already gone; adopted ones stay recorded in state.json.
      await this.#abort();
      throw new ReloadFailedError(result);
    }
    if (this.#state === 'starting') {
      this.#state = 'running'; // unless a stop arrived meanwhile
      this.#liveness.start();
    }
    this.#watcher?.start();
    this.#save();
    this.#events?.started(this.status());
    return result;
  }

  /** Queues a reload; resolves with the result of the first reload that started after this call. */
  reload(mode: ReloadMode, trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.#queue.request(mode, trigger);
  }

  /** Stops every generation (gracefully unless `hard`) and resolves once all have exited. Idempotent. */
  stop(options: StopOptions): Promise<void> {
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  /** A start that cannot go on: no more reloads, no timers, the run dir released. */
  async #abort(): Promise<void> {
    await this.#queue.close(ReloadError.stopping());
    this.#fleet.close();
    this.#stoppedResolve();
    await this.close();
  }

  /** Closes the control socket and releases the pidfile; call after stop. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
    await this.#store?.settled();
    if (this.#ownsPidfile) releasePidfile(this.#paths.pidfile);
    this.#ownsPidfile = false;
  }

  status(): Status {
    const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
    const { runDir, config } = this.#options;
    return {
      supervisor: { pid: process.pid, version, startedAt: this.#startedAt, state: this.#state, runDir, config, memory: { rss, heapTotal, heapUsed, external } },
      generations: this.#fleet.records().map(publicGeneration),
      lastReload: this.#history.last(),
      reloads: this.#history.newestFirst(),
      crashLoop: this.#liveness.status(),
      watch: this.#watcher?.status() ?? { enabled: false, files: [], directories: [] },
    };
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#state = 'stopping';
    this.#log.info(options, 'stopping');
    this.#events?.stopping();
    await this.#watcher?.close();
    this.#liveness.stop();
    await this.#queue.close(ReloadError.stopping());
    if (options.hard) await this.#fleet.terminateAll();
    else await this.#fleet.drainAll(new Date(Date.now() + (options.drainTimeoutMs ?? this.#options.drainTimeoutMs)));
    this.#fleet.close();
    this.#save();
    await this.#store?.settled();
    this.#log.info('every generation exited');
    this.#stoppedResolve();
  }

  /** One transaction, then what follows any result before its callers see it: history, respawn, state.json, systemd. */
  async #reload(batch: ReloadBatch): Promise<ReloadResult> {
    if (this.#state !== 'starting') this.#events?.reloadStarting(batch.mode);
    const result = await this.#transaction.run(batch);
    this.#history.record(result);
    this.#liveness.reloaded(result);
    this.#save();
    if (this.#state !== 'starting') this.#events?.reloadFinished(result, this.status());
    return result;
  }

  #save(): void {
    this.#store?.save({
      version: 1,
      nextGenerationId: this.#fleet.nextId,
      nextReloadId: this.#history.nextId,
      supervisor: { pid: process.pid, startedAt: this.#startedAt, version, state: this.#state, config: this.#options.config },
      generations: this.#fleet.records(),
      lastReload: this.#history.last(),
    });
  }
}
