import type { Logger } from 'pino';
import { isDefaultRunDir, type Options } from '../config/options.js';
import { runDirPaths } from '../config/run-dir.js';
import type { Daemon, StopOptions } from '../control/dispatch.js';
import { ControlServer } from '../control/server.js';
import type { EnvResult, HistoryEntry, ReloadMode, ReloadResult, ReloadTrigger, Status } from '../control/types.js';
import { ReloadFailedError } from '../control/reload-failed.js';
import { ReloadError } from '../errors.js';
import { writeFragment } from '../haproxy/supervisor-socket.js';
import { loadConfig } from '../haproxy/config-load.js';
import { releasePidfile } from '../system/pidfile.js';
import { takeRunDir } from '../system/run-dir.js';
import { version } from '../version.js';
import { claimConfig } from './config-claim.js';
import { publicGenerations } from './usage.js';
import type { SupervisorEvents } from './notify-policy.js';
import { ReloadQueue } from './reload-queue.js';
import type { ReloadBatch } from './reload.js';
import { createParts, type DaemonParts } from './parts.js';
import type { EnvChange } from './env-change.js';
import type { MetricsHandle } from '../metrics/attach.js';
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
  readonly #queue = new ReloadQueue<ReloadMode, ReloadTrigger, ReloadResult>((batch) => this.#reload(batch));
  readonly #parts: DaemonParts;
  #store: StateStore | undefined;
  #server: ControlServer | undefined;
  #metrics: MetricsHandle | undefined;
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
    this.#parts = createParts(options, log, this.#queue);
    this.#parts.fleet.on('changed', () => this.#save());
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
      const listen = this.#options.metricsListen;
      if (listen !== undefined) this.#metrics = await (await import('../metrics/attach.js')).attachMetrics(listen, this, this.#parts.fleet, this.#log);
      this.#parts.history.continueFrom(persisted.nextReloadId, access);
      this.#parts.env.load(this.#log, access);
      this.#store = new StateStore(this.#paths.state, this.#log, access);
      adopted = this.#parts.fleet.restore(persisted.generations, persisted.nextGenerationId);
      claimConfig(loadConfig(this.#options.config), adopted.map((generation) => generation.pid), this.#options.allowSharedPorts, this.#log);
    } catch (error) {
      await this.#abort();
      throw error;
    }
    this.#log.info({ runDir, config: this.#options.config }, 'supervisor started');
    const result = await this.reload(adopted.some((generation) => generation.state === 'active') ? 'reload' : 'start', 'start');
    if (this.#parts.fleet.active() === undefined) {
      // Nothing serves. Generations we spawned are already gone; adopted ones stay recorded in state.json.
      await this.#abort();
      throw new ReloadFailedError(result);
    }
    if (this.#state === 'starting') {
      this.#state = 'running'; // unless a stop arrived meanwhile
      this.#parts.liveness.start();
    }
    this.#parts.watcher?.start();
    this.#save();
    this.#events?.started(this.status());
    return result;
  }

  /** Queues a reload; resolves with the result of the first reload that started after this call. */
  reload(mode: ReloadMode, trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.#queue.request(mode, trigger);
  }

  /** Changes the variables set for haproxy (env-change.ts), or lists them when there is nothing to change. */
  env(change: EnvChange): Promise<EnvResult> {
    if (Object.keys(change.set).length + change.unset.length === 0) return Promise.resolve(this.#parts.envChanger.list());
    return this.#state === 'stopping' ? Promise.reject(ReloadError.stopping()) : this.#parts.envChanger.apply(change);
  }

  history(query: { limit: number; id?: number }): HistoryEntry[] {
    if (query.id === undefined) return this.#parts.history.entries(query.limit);
    const entry = this.#parts.history.entry(query.id);
    return entry === undefined ? [] : [entry];
  }

  /** Stops every generation (gracefully unless `hard`) and resolves once all have exited. Idempotent. */
  stop(options: StopOptions): Promise<void> {
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  /** A start that cannot go on: no more reloads, no timers, the run dir released. */
  async #abort(): Promise<void> {
    await this.#queue.close(ReloadError.stopping());
    this.#parts.fleet.close();
    this.#stoppedResolve();
    await this.close();
  }

  /** Closes the control socket and releases the pidfile; call after stop. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
    await this.#metrics?.close();
    this.#metrics = undefined;
    await this.#store?.settled();
    if (this.#ownsPidfile) releasePidfile(this.#paths.pidfile);
    this.#ownsPidfile = false;
  }

  /** The status; `usage` (connections and RSS per live generation, from /proc) unless asked not to. */
  status(usage = true): Status {
    const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
    const { runDir, config } = this.#options;
    const { fleet, history, liveness, watcher, env } = this.#parts;
    return {
      supervisor: { pid: process.pid, version, startedAt: this.#startedAt, state: this.#state, runDir, config, memory: { rss, heapTotal, heapUsed, external } },
      generations: publicGenerations(fleet, usage ? this.#options.config : undefined),
      lastReload: history.last(),
      reloads: history.newestFirst(),
      crashLoop: liveness.status(),
      watch: watcher?.status() ?? { enabled: false, files: [], directories: [] },
      env: env.values(),
    };
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#state = 'stopping';
    this.#log.info(options, 'stopping');
    this.#events?.stopping();
    await this.#parts.watcher?.close();
    this.#parts.liveness.stop();
    await this.#queue.close(ReloadError.stopping());
    if (options.hard) await this.#parts.fleet.terminateAll();
    else await this.#parts.fleet.drainAll(new Date(Date.now() + (options.drainTimeoutMs ?? this.#options.drainTimeoutMs)));
    this.#parts.fleet.close();
    this.#save();
    await this.#store?.settled();
    this.#log.info('every generation exited');
    this.#stoppedResolve();
  }

  /** One transaction, then what follows any result before its callers see it: history, respawn, state.json, systemd. */
  async #reload(batch: ReloadBatch): Promise<ReloadResult> {
    if (this.#state !== 'starting') this.#events?.reloadStarting(batch.mode);
    const result = await this.#parts.transaction.run(batch);
    this.#parts.liveness.reloaded(result);
    this.#metrics?.reloaded(result);
    this.#save();
    if (this.#state !== 'starting') this.#events?.reloadFinished(result, this.status(false));
    return result;
  }

  #save(): void {
    this.#store?.save({
      version: 1,
      nextGenerationId: this.#parts.fleet.nextId,
      nextReloadId: this.#parts.history.nextId,
      supervisor: { pid: process.pid, startedAt: this.#startedAt, version, state: this.#state, config: this.#options.config },
      generations: this.#parts.fleet.records(),
      lastReload: this.#parts.history.last(),
    });
  }
}
