import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { defaults } from '../config/defaults.js';
import type { Options } from '../config/options.js';
import { runDirPaths } from '../config/run-dir.js';
import { ControlServer } from '../control/server.js';
import type { Reply, Request } from '../control/protocol.js';
import { ReloadError } from '../errors.js';
import { loadConfig } from '../haproxy/config-load.js';
import { writeFragment } from '../haproxy/supervisor-socket.js';
import { adoptProcess } from '../system/adopted.js';
import { acquirePidfile, releasePidfile } from '../system/pidfile.js';
import { isSameProcess, readComm } from '../system/proc.js';
import { version } from '../version.js';
import { ConfigWatcher } from '../watch/config-watcher.js';
import { Deadlines } from './deadlines.js';
import { Generation, terminate, type ExitReason, type GenerationRecord } from './generation.js';
import { launchGeneration, watchExit } from './launch.js';
import { Registry } from './registry.js';
import { ReloadQueue, type Batch } from './reload-queue.js';
import { runReload, type ReloadContext, type ReloadMode, type ReloadResult, type ReloadTrigger } from './reload.js';
import type { SupervisorEvents } from './notify-policy.js';
import { RespawnPolicy } from './respawn.js';
import { loadState, StateStore, type PersistedState } from './state-store.js';
import { publicGeneration, type Status } from './status.js';

/** How to stop: graceful (soft-stop, wait up to the drain deadline, escalate) or hard (SIGTERM now). */
export type StopOptions = { hard: boolean; drainTimeoutMs?: number };

/** The daemon: owns every haproxy generation, serializes reloads, enforces deadlines, answers the control socket. */
export class Supervisor {
  readonly #options: Options;
  readonly #log: Logger;
  readonly #paths: ReturnType<typeof runDirPaths>;
  readonly #startedAt = new Date().toISOString();
  readonly #deadlines: Deadlines;
  readonly #respawn: RespawnPolicy;
  readonly #reloads: ReloadResult[] = [];
  #registry = new Registry(1, 0);
  #queue: ReloadQueue<ReloadMode, ReloadTrigger, ReloadResult>;
  #store: StateStore | undefined;
  #server: ControlServer | undefined;
  #watcher: ConfigWatcher | undefined;
  #state: Status['supervisor']['state'] = 'starting';
  #nextReloadId = 1;
  /** The config fragment with the per-generation socket (haproxy/supervisor-socket.ts). */
  #fragment = '';
  #respawnTimer: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;
  #ownsPidfile = false;
  #stoppedResolve!: () => void;
  /** Resolves once a stop has finished: every generation exited. */
  readonly stopped = new Promise<void>((resolve) => {
    this.#stoppedResolve = resolve;
  });

  readonly #events: SupervisorEvents | undefined;

  constructor(options: Options, log: Logger, events?: SupervisorEvents) {
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#paths = runDirPaths(options.runDir);
    this.#deadlines = new Deadlines({ killGraceMs: options.killGraceMs, maxDraining: options.maxDraining });
    this.#respawn = new RespawnPolicy({
      backoffMs: options.respawnBackoffMs,
      backoffMaxMs: options.respawnBackoffMaxMs,
      resetAfterMs: options.respawnResetAfterMs,
    });
    this.#queue = new ReloadQueue((batch) => this.#runReload(batch));
  }

  /**
   * Takes the run dir (pidfile first: a second supervisor touches nothing), opens the control socket and starts
   * the first generation. Resolves with that start's result; throws when it failed (after cleaning up).
   */
  async start(): Promise<ReloadResult> {
    await mkdir(this.#options.runDir, { recursive: true, mode: 0o755 });
    acquirePidfile(this.#paths.pidfile);
    this.#ownsPidfile = true;
    let persisted: PersistedState;
    try {
      persisted = await loadState(this.#paths.state);
      this.#fragment = await writeFragment(this.#options.runDir);
      this.#server = await ControlServer.listen(this.#paths.control, (request) => this.#handle(request), this.#log.child({ component: 'control' }), this.#options.socketGroup);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#registry = new Registry(persisted.nextGenerationId, defaults.historySize);
    this.#nextReloadId = persisted.nextReloadId;
    this.#store = new StateStore(this.#paths.state, () => this.#snapshot(), (error) => this.#log.error({ err: error }, 'cannot write state.json'));
    this.#log.info({ runDir: this.#options.runDir, config: this.#options.config }, 'supervisor started');
    if (this.#options.watch) {
      const log = this.#log.child({ component: 'watch' });
      this.#watcher = new ConfigWatcher({ config: this.#options.config, quietMs: this.#options.watchQuietMs, maxWaitMs: this.#options.watchMaxWaitMs, log }, () =>
        this.reload('reload', 'watch'),
      );
    }
    const adopted = this.#adopt(persisted);
    // Generations a previous supervisor left serving are taken over like a reload: hitless, via -x.
    const result = await this.reload(adopted.some((generation) => generation.state === 'active') ? 'reload' : 'start', 'start');
    if (this.#registry.active() === undefined) {
      // Nothing serves. Generations we spawned are already gone; adopted ones stay recorded in state.json.
      await this.#queue.close(new ReloadError('The supervisor is stopping.', 'stopping'));
      this.#deadlines.clear();
      this.#stoppedResolve();
      await this.close();
      throw new ReloadError(result.error?.message ?? 'start failed', result.error?.phase ?? 'spawn', result.error?.lines ?? []);
    }
    if (this.#state === 'starting') this.#state = 'running'; // unless a stop arrived meanwhile
    this.#watcher?.start();
    this.#changed();
    this.#events?.started(this.status());
    return result;
  }

  /**
   * Re-identifies generations recorded in state.json that are still alive (same pid and /proc start time, comm
   * haproxy) and tracks them again: deadlines resume, exits are seen by polling. Nothing is signalled here.
   */
  #adopt(persisted: PersistedState): Generation[] {
    const records = Array.isArray(persisted['generations']) ? (persisted['generations'] as GenerationRecord[]) : [];
    const adopted: Generation[] = [];
    for (const record of records) {
      if (record.state === 'exited' || typeof record.pid !== 'number' || typeof record.startTime !== 'number') continue;
      const identity = { pid: record.pid, startTime: record.startTime };
      if (!isSameProcess(identity) || readComm(record.pid) !== 'haproxy') continue;
      const log = this.#log.child({ gen: record.id, pid: record.pid });
      const generation = Generation.adopt(record, adoptProcess(identity), log, () => this.#changed());
      this.#registry.add(generation);
      watchExit(generation, (exited, reason) => this.#onExit(exited, reason));
      if (generation.state === 'draining') this.#deadlines.track(generation);
      log.warn({ state: record.state, deadline: record.deadline }, 'adopted a generation left running by a previous supervisor');
      adopted.push(generation);
    }
    return adopted;
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
    return {
      supervisor: {
        pid: process.pid,
        version,
        startedAt: this.#startedAt,
        state: this.#state,
        runDir: this.#options.runDir,
        config: this.#options.config,
        memory: (({ rss, heapTotal, heapUsed, external }) => ({ rss, heapTotal, heapUsed, external }))(process.memoryUsage()),
      },
      generations: this.#registry.records().map(publicGeneration),
      lastReload: this.#reloads.at(-1) ?? null,
      reloads: [...this.#reloads].reverse(),
      crashLoop: { ...this.#respawn.status(), looping: this.#respawn.looping },
      watch: this.#watcher?.status() ?? { enabled: false, files: [], directories: [] },
    };
  }

  async #stop(options: StopOptions): Promise<void> {
    this.#state = 'stopping';
    this.#log.info(options, 'stopping');
    this.#events?.stopping();
    await this.#watcher?.close();
    clearTimeout(this.#respawnTimer);
    await this.#queue.close(new ReloadError('The supervisor is stopping.', 'stopping'));
    const live = this.#registry.live();
    if (options.hard) {
      await terminate(live, this.#options.killGraceMs);
    } else {
      const deadline = new Date(Date.now() + (options.drainTimeoutMs ?? this.#options.drainTimeoutMs));
      for (const generation of live) {
        generation.softStop(deadline);
        this.#deadlines.expedite(generation, deadline);
        this.#deadlines.track(generation);
      }
      await Promise.all(live.map((generation) => generation.exited));
    }
    this.#deadlines.clear();
    this.#changed();
    await this.#store?.settled();
    this.#log.info('every generation exited');
    this.#stoppedResolve();
  }

  /**
   * One transaction, and everything that follows any result before its callers see it: history, the draining
   * cap, respawn, state.json, which content the watcher now takes as loaded, systemd. The config is read and
   * parsed once here, for the transaction's lint and the watcher's capture alike.
   */
  async #runReload(batch: Batch<ReloadMode, ReloadTrigger>): Promise<ReloadResult> {
    const started = performance.now();
    const config = loadConfig(this.#options.config);
    const captured = await this.#watcher?.capture(config);
    if (this.#state !== 'starting') this.#events?.reloadStarting(batch.mode);
    const prepareMs = Math.round(performance.now() - started);
    const result = await runReload(this.#reloadContext(), batch, config);
    // The result's duration covers the daemon's whole path, reading the config included.
    result.timings.prepareMs = prepareMs;
    result.durationMs += prepareMs;
    this.#finished(result);
    if (captured !== undefined && this.#watcher !== undefined) {
      if (result.ok && result.generation !== undefined) this.#watcher.loaded(captured);
      else if (!result.ok) this.#watcher.failed(captured, result.error?.message ?? 'reload failed');
    }
    if (this.#state !== 'starting') this.#events?.reloadFinished(result, this.status());
    return result;
  }

  #reloadContext(): ReloadContext {
    return {
      haproxy: this.#options.haproxy,
      config: this.#options.config,
      fragment: this.#fragment,
      readyTimeoutMs: this.#options.readyTimeoutMs,
      drainTimeoutMs: this.#options.drainTimeoutMs,
      killGraceMs: this.#options.killGraceMs,
      registry: this.#registry,
      log: this.#log,
      takeReloadId: () => this.#nextReloadId++,
      launch: async (transferFrom) => {
        const generation = await launchGeneration(
          {
            haproxy: this.#options.haproxy,
            config: this.#options.config,
            fragment: this.#fragment,
            runDir: this.#options.runDir,
            log: this.#log,
            onChange: () => this.#changed(),
            onExit: (exited, reason) => this.#onExit(exited, reason),
          },
          this.#registry.takeId(),
          transferFrom,
        );
        this.#registry.add(generation);
        this.#changed();
        return generation;
      },
      onDraining: (generation) => this.#deadlines.track(generation),
    };
  }

  #finished(result: ReloadResult): void {
    this.#reloads.push(result);
    if (this.#reloads.length > defaults.historySize) this.#reloads.shift();
    this.#deadlines.enforceCap(this.#registry.draining());
    if (result.ok && result.generation !== undefined) this.#respawn.recovered();
    this.#changed();
    if (this.#state === 'running' && this.#registry.active() === undefined) {
      this.#scheduleRespawn(this.#respawn.failedAttempt(result.error?.message ?? 'no generation serving'));
    }
  }

  #onExit(generation: Generation, reason: ExitReason): void {
    this.#deadlines.forget(generation);
    this.#registry.retire(generation);
    this.#changed();
    if (reason !== 'crashed' || this.#state !== 'running') return;
    const readyAt = generation.record.readyAt;
    const served = readyAt === undefined ? undefined : Date.now() - Date.parse(readyAt);
    const exit = generation.record.exit;
    const delay = this.#respawn.crashed(served, `generation ${generation.id} exited (${exit?.signal ?? `code ${exit?.code}`}): ${generation.tail().slice(-3).join(' | ')}`);
    generation.log.error({ delayMs: delay, looping: this.#respawn.looping }, 'active generation exited unasked: replacing it');
    this.#scheduleRespawn(delay);
  }

  #scheduleRespawn(delayMs: number): void {
    if (this.#respawnTimer !== undefined) return;
    this.#respawnTimer = setTimeout(() => {
      this.#respawnTimer = undefined;
      void this.reload('respawn', 'crash').catch((error: unknown) => this.#log.debug({ err: error }, 'respawn not run'));
    }, delayMs);
  }

  async #handle(request: Request): Promise<Reply> {
    switch (request.cmd) {
      case 'ping':
        return { ok: true, result: { pid: process.pid } };
      case 'status':
        return { ok: true, result: this.status() };
      case 'reload': {
        const result = await this.reload(request.mode, 'cli');
        return result.ok ? { ok: true, result } : { ok: false, error: { code: result.error?.code ?? 'failure', message: result.error?.message ?? 'reload failed', detail: result } };
      }
      case 'stop':
        await this.stop({ hard: request.hard, drainTimeoutMs: request.drainTimeoutMs });
        return { ok: true, result: this.status() };
    }
  }

  #changed(): void {
    this.#store?.changed();
  }

  #snapshot(): PersistedState {
    return {
      version: 1,
      nextGenerationId: this.#registry.nextId,
      nextReloadId: this.#nextReloadId,
      supervisor: { pid: process.pid, startedAt: this.#startedAt, version, state: this.#state },
      generations: this.#registry.records(),
      lastReload: this.#reloads.at(-1) ?? null,
    };
  }
}
