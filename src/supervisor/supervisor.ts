import type { Logger } from 'pino';
import type { Options } from '../config/options.js';
import { runDirPaths } from '../config/run-dir.js';
import type { Daemon, StopOptions } from '../control/dispatch.js';
import type { EnvResult, HistoryEntry, ReloadMode, ReloadResult, ReloadTrigger, Status, UpgradeResult } from '../control/types.js';
import { ReloadFailedError } from '../control/reload-failed.js';
import { ReloadError, UpgradeError } from '../errors.js';
import { writeFragment } from '../haproxy/supervisor-socket.js';
import { loadConfig } from '../haproxy/config-load.js';
import { version } from '../version.js';
import { claimConfig } from './config-claim.js';
import type { SupervisorEvents } from './notify-policy.js';
import { ReloadQueue } from './reload-queue.js';
import type { ReloadBatch } from './reload.js';
import { createParts, statusOf, type DaemonParts } from './parts.js';
import type { EnvChange } from './env-change.js';
import type { MetricsHandle } from '../metrics/attach.js';
import { RunDirLease } from './run-dir-lease.js';
import { IdReservation, loadState, snapshot, StateStore } from './state-file.js';
import { handOver } from './upgrade.js';
import { pidOneRole } from '../system/pid-one.js';

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
  readonly #startedAt = new Date().toISOString();
  readonly #queue = new ReloadQueue<ReloadMode, ReloadTrigger, ReloadResult>((batch) => this.#reload(batch));
  readonly #parts: DaemonParts;
  readonly #lease: RunDirLease;
  readonly #handoverFrom: number | undefined;
  #store: StateStore | undefined;
  readonly #reservation = new IdReservation();
  #metrics: MetricsHandle | undefined;
  #state: Status['supervisor']['state'] = 'starting';
  #stopping: Promise<void> | undefined;
  #stoppedResolve!: () => void;
  /** Resolves once a stop has finished: every generation exited. */
  readonly stopped = new Promise<void>((resolve) => {
    this.#stoppedResolve = resolve;
  });

  /** `handoverFrom`: the pid of the supervisor this one succeeds (`upgrade`), still alive until this one serves. */
  constructor(options: Options, log: Logger, events?: SupervisorEvents, handoverFrom?: number) {
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#handoverFrom = handoverFrom;
    this.#lease = new RunDirLease(options.runDir, this, log);
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
    const access = this.#lease.takeRunDir(socketGroup);
    let adopted;
    try {
      const persisted = await loadState(runDirPaths(runDir).state);
      await writeFragment(runDir);
      await this.#lease.listen();
      const listen = this.#options.metricsListen;
      if (listen !== undefined) this.#metrics = await (await import('../metrics/attach.js')).attachMetrics(listen, this, this.#parts.fleet, this.#log);
      this.#parts.history.continueFrom(persisted.nextReloadId, access);
      this.#parts.env.load(this.#log, access);
      this.#store = new StateStore(runDirPaths(runDir).state, this.#log, access);
      if (persisted.pending !== undefined) this.#log.warn({ pending: persisted.pending }, 'the previous supervisor died while it started a generation');
      adopted = await this.#parts.fleet.restore(persisted.generations, persisted.nextGenerationId, this.#options.takeover);
      // The keeper a previous supervisor left: the first generation takes the listeners from it.
      await this.#parts.keeper.adopt();
      this.#parts.fleet.useCheckpoint({ checkpoint: () => this.#checkpoint() });
      // Every generation of this run dir is ours (adopted, or being ended), never a conflict.
      const ours = [...this.#parts.fleet.live().map((generation) => generation.pid), ...(this.#handoverFrom === undefined ? [] : [this.#handoverFrom])];
      claimConfig(loadConfig(this.#options.config), ours, this.#options.allowSharedPorts, this.#log);
    } catch (error) {
      await this.#abort();
      throw error;
    }
    this.#log.info({ runDir, config: this.#options.config }, 'supervisor started');
    // Over an adopted active generation: a hitless reload, or nothing at all for an upgrade (haproxy untouched).
    const serving = adopted.some((generation) => generation.state === 'active');
    const result = await this.reload(!serving ? 'start' : this.#handoverFrom === undefined ? 'reload' : 'respawn', 'start');
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
  reload(mode: ReloadMode, trigger: ReloadTrigger, skipVerify = false): Promise<ReloadResult> {
    return this.#state === 'upgrading' ? Promise.reject(new Error('An upgrade is in progress; reload again in a moment.')) : this.#queue.request(mode, trigger, skipVerify);
  }

  /** Hands the run dir and the live generations over to the supervisor binary found now (upgrade.ts). */
  async upgrade(): Promise<UpgradeResult> {
    if (this.#state !== 'running') throw new UpgradeError(`The supervisor is ${this.#state}; upgrade only a running one.`);
    if (pidOneRole() !== 'host') {
      throw new UpgradeError('The supervisor is the main process of a container (PID 1 or behind its init): its exit would end the container and haproxy with it. Roll out a new image instead.');
    }
    this.#state = 'upgrading';
    this.#parts.liveness.stop();
    await this.#queue.idle();
    await this.#persisted();
    try {
      const successor = await handOver(this.#lease, this.#options.readyTimeoutMs + 10_000, this.#log);
      this.#events?.handedOver(successor.pid);
      this.#parts.fleet.close();
      this.#stoppedResolve();
      return { ok: true, previous: { pid: process.pid, version }, current: successor };
    } catch (error) {
      // A successor that died after it spawned a generation (none serving at the time) leaves it to us.
      await this.#parts.fleet.adoptStrangers();
      this.#state = 'running';
      this.#parts.liveness.start();
      this.#save();
      throw error;
    }
  }

  /** Changes the variables set for haproxy (env-change.ts), or lists them when there is nothing to change. */
  env(change: EnvChange): Promise<EnvResult> {
    return this.#state === 'stopping' ? Promise.reject(ReloadError.stopping()) : this.#parts.envChanger.apply(change);
  }

  async history(query: { limit: number; id?: number }): Promise<HistoryEntry[]> {
    await this.#parts.history.settled(); // what has been recorded is on disk
    return this.#parts.history.query(query);
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
    await this.#lease.close();
    await this.#metrics?.close();
    this.#metrics = undefined;
    this.#store?.settled();
  }

  /** The status; `usage` (connections and RSS per live generation, from /proc) unless asked not to. */
  status(usage = true): Status {
    const { runDir, config } = this.#options;
    return statusOf(this.#parts, { pid: process.pid, version, startedAt: this.#startedAt, state: this.#state, runDir, config }, usage ? config : undefined);
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#state = 'stopping';
    this.#log.info(options, 'stopping');
    this.#events?.stopping();
    await this.#parts.watcher?.close();
    this.#parts.liveness.stop();
    await this.#queue.close(ReloadError.stopping());
    // First: a socket the keeper still held once the generations unbind would take connections nobody accepts.
    await this.#parts.keeper.release();
    if (options.hard) await this.#parts.fleet.terminateAll();
    else await this.#parts.fleet.drainAll(new Date(Date.now() + (options.drainTimeoutMs ?? this.#options.drainTimeoutMs)));
    await this.#parts.keeper.stop();
    this.#parts.fleet.close();
    // Nothing is spawned any more: the next supervisor continues from the exact counters.
    this.#reservation.drop();
    await this.#persisted();
    this.#log.info('every generation exited');
    this.#stoppedResolve();
  }

  /** One transaction, then what follows any result before its callers see it: history, respawn, state.json, systemd. */
  async #reload(batch: ReloadBatch): Promise<ReloadResult> {
    if (this.#state !== 'starting') this.#events?.reloadStarting(batch.mode);
    // What changes while it runs is written once it ended (the checkpoint before its spawn is written at once).
    this.#store?.hold();
    const result = await this.#parts.transaction.run(batch).finally(() => this.#store?.release());
    this.#parts.liveness.reloaded(result);
    this.#metrics?.reloaded(result);
    this.#save();
    if (this.#state !== 'starting') this.#events?.reloadFinished(result, this.status(false));
    return result;
  }

  /**
   * The fleet's checkpoint before each spawn: state.json as the fleet is now, on disk, when its counters do not yet
   * reserve the ids this spawn took (IdReservation); most spawns write nothing here.
   */
  #checkpoint(): void {
    const next = { generation: this.#parts.fleet.nextId, reload: this.#parts.history.nextId };
    if (!this.#reservation.needsCheckpoint(next)) return;
    this.#reservation.reserve(next);
    this.#save();
    if (this.#store?.settled() === false) this.#reservation.drop();
  }

  async #persisted(): Promise<void> {
    this.#save();
    this.#store?.settled();
    await this.#parts.history.settled();
  }

  #save(): void {
    this.#store?.save(() => snapshot(this.#parts, { pid: process.pid, startedAt: this.#startedAt, version, state: this.#state, config: this.#options.config }, this.#reservation));
  }
}
