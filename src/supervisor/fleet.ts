import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ExitReason } from '../control/types.js';
import { generationArgv } from '../haproxy/argv.js';
import { haproxyEnv, type HaproxyVariables } from '../haproxy/environment.js';
import { fragmentPath, generationSocketPath } from '../haproxy/supervisor-socket.js';
import { adoptProcess } from '../system/adopted.js';
import { identify, isSameProcess, readComm } from '../system/proc.js';
import { parentPid, processesNamed, unixSocketHolders } from '../system/processes.js';
import { spawnChild, type ChildHandle } from '../system/spawn.js';
import { EscalationLadder } from './escalation.js';
import { Generation, type GenerationRecord } from './generation.js';
import { Registry } from './registry.js';
import { waitServing, type NotServing } from './wait-serving.js';
import { probeGeneration } from './watchdog.js';

/** What the fleet needs to start and end generations. */
export type FleetOptions = {
  haproxy: string;
  config: string[];
  runDir: string;
  drainTimeoutMs: number;
  killGraceMs: number;
  maxDraining: number;
  /** How many exited generations status keeps. */
  historySize: number;
  /** The variables every new generation gets in its environment. */
  variables: HaproxyVariables;
  log: Logger;
};

/** `changed`: a record changed (state.json); `exited`: a generation ended, its record says how; `escalated`: SIGTERM or SIGKILL sent. */
export type FleetEvents = { changed: []; exited: [generation: Generation, reason: ExitReason]; escalated: [signal: 'SIGTERM' | 'SIGKILL'] };

/** A generation as the reload result names it. */
export type GenerationRef = { id: number; pid: number };

const LEVELS: Array<[RegExp, 'error' | 'warn' | 'info']> = [
  [/^\[(ALERT|EMERG)\]/, 'error'],
  [/^\[WARNING\]/, 'warn'],
];

/**
 * The single owner of live haproxy generations: it launches them (our children) and adopts those a previous
 * supervisor left running, tracks both the same way, sees every exit and records its reason, and ends generations
 * only through the escalation ladder. Everything else asks it.
 */
export class Fleet extends EventEmitter<FleetEvents> {
  readonly #options: FleetOptions;
  readonly #ladder: EscalationLadder;
  #registry: Registry;

  constructor(options: FleetOptions) {
    super();
    this.#options = options;
    this.#registry = new Registry(1, options.historySize);
    this.#ladder = new EscalationLadder({ killGraceMs: options.killGraceMs, maxDraining: options.maxDraining });
    this.#ladder.on('step', (_generation, step, _cause, outcome) => {
      this.emit('changed');
      if (outcome === 'sent' && step !== 'soft') this.emit('escalated', step === 'kill' ? 'SIGKILL' : 'SIGTERM');
    });
  }

  /**
   * Takes over what state.json recorded: generation ids continue from `nextId`, and generations still alive (same
   * pid and /proc start time, comm haproxy) are tracked again, their deadlines resumed. Nothing is signalled here.
   * With `takeover` (`run --takeover`) and no adopted active generation, what holds that socket is taken over too.
   */
  restore(records: GenerationRecord[], nextId: number, takeover?: string): Generation[] {
    this.#registry = new Registry(nextId, this.#options.historySize);
    const adopted: Generation[] = [];
    for (const record of records) {
      if (record.state === 'exited' || !isSameProcess(record) || readComm(record.pid) !== 'haproxy') continue;
      const log = this.#options.log.child({ gen: record.id, pid: record.pid });
      const generation = this.#track(new Generation({ ...record, adopted: true }, adoptProcess(record), log));
      if (generation.state === 'draining') this.#ladder.resume(generation);
      log.warn({ state: record.state, deadline: record.deadline }, 'adopted a generation left running by a previous supervisor');
      adopted.push(generation);
    }
    if (takeover !== undefined && !adopted.some((generation) => generation.state === 'active')) adopted.push(...this.takeOver(path.resolve(takeover)));
    return adopted;
  }

  /**
   * `run --takeover <socket>`: the haproxy processes this supervisor did not start that hold that stats socket
   * (a master-worker worker) and their haproxy parent (its master) become generations, the worker active with that
   * socket as its own: the first reload takes the listeners from it (-x) and then retires them all (SIGUSR1,
   * deadline, escalation), shown in status until they exit. Returns them (none when nothing holds the socket).
   */
  takeOver(socketPath: string): Generation[] {
    const workers = unixSocketHolders(socketPath, processesNamed('haproxy'));
    const masters = [...new Set(workers.map(parentPid).filter((pid): pid is number => pid !== undefined && readComm(pid) === 'haproxy' && !workers.includes(pid)))];
    const taken: Generation[] = [];
    for (const pid of [...workers, ...masters]) {
      const identity = identify(pid);
      if (identity === undefined) continue;
      const id = this.#registry.takeId();
      const record: GenerationRecord = { id, pid, startTime: identity.startTime, startedAt: new Date().toISOString(), socket: workers.includes(pid) ? socketPath : '', state: 'active', adopted: true };
      const log = this.#options.log.child({ gen: id, pid });
      log.warn({ socket: socketPath, role: workers.includes(pid) ? 'worker' : 'master' }, 'taking over an haproxy this supervisor did not start');
      taken.push(this.#track(new Generation(record, adoptProcess(identity), log)));
    }
    return taken;
  }

  /** Spawns the next generation: `haproxy -db … [-x transferFrom]`, its output logged line by line with its id and pid. */
  async launch(transferFrom: string | undefined): Promise<Generation> {
    const id = this.#registry.takeId();
    const socket = generationSocketPath(this.#options.runDir, id);
    // Synchronous: microseconds, and a respawn must not wait for two thread-pool round trips before its spawn.
    mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
    rmSync(socket, { force: true });
    const args = generationArgv({ config: this.#options.config, fragment: fragmentPath(this.#options.runDir), transferFrom });
    // Lines can arrive before the Generation exists; they are kept and handed over.
    const early: string[] = [];
    const spawned: { generation?: Generation } = {};
    const child: ChildHandle = await spawnChild(this.#options.haproxy, args, {
      env: haproxyEnv(socket, this.#options.variables),
      onLine: (line) => (spawned.generation === undefined ? early.push(line) : logLine(spawned.generation, line)),
    });
    const log = this.#options.log.child({ gen: id, pid: child.pid });
    const record: GenerationRecord = { id, pid: child.pid, startTime: child.identity.startTime, startedAt: new Date().toISOString(), socket, state: 'starting' };
    const generation = this.#track(new Generation(record, child, log));
    spawned.generation = generation;
    for (const line of early) generation.remember(line);
    log.info({ argv: [this.#options.haproxy, ...args] }, 'generation spawned');
    return generation;
  }

  /** Waits until a generation proves it serves (wait-serving.ts). */
  waitServing(generation: Generation, timeoutMs: number): Promise<NotServing | undefined> {
    return waitServing(generation, timeoutMs);
  }

  /** A generation proved it serves: it is the active one. */
  activate(generation: Generation): void {
    generation.markActive();
    this.emit('changed');
  }

  /**
   * Tells every live generation older than `current` to finish (SIGUSR1, identity-checked), each with the drain
   * deadline; ones already being ended keep their course; a hung one is terminated (it does not answer a soft
   * stop). Then enforces --max-draining. Returns the generations that started draining or were terminated now.
   */
  retireOlderThan(current: Generation): GenerationRef[] {
    const deadline = new Date(Date.now() + this.#options.drainTimeoutMs);
    const retired: GenerationRef[] = [];
    for (const generation of this.#registry.live()) {
      // Newer ones cannot exist (one reload at a time).
      if (generation.id >= current.id || generation.record.escalation !== undefined) continue;
      if (generation.record.hung !== undefined) {
        this.#ladder.terminateHung(generation);
        retired.push({ id: generation.id, pid: generation.pid });
        continue;
      }
      const wasDraining = generation.state === 'draining';
      if (this.#ladder.drain(generation, deadline) === 'sent' && !wasDraining) retired.push({ id: generation.id, pid: generation.pid });
    }
    this.#ladder.enforceCap(this.draining());
    this.emit('changed');
    return retired;
  }

  /** Records that a generation stopped serving: the next reload starts fresh beside it, then terminates it. */
  markHung(generation: Generation, reason: string): void {
    generation.record.hung ??= { at: new Date().toISOString(), reason };
    this.emit('changed');
  }

  /** Probes a generation as the watchdog does: undefined when it serves, else why not. */
  probe(generation: Generation, timeoutMs: number): Promise<string | undefined> {
    return probeGeneration(generation, timeoutMs);
  }

  /** Ends a generation that never became the serving one (ladder: abandon). */
  abandon(generation: Generation): void {
    this.#ladder.abandon(generation);
  }

  /** Hard stop: every live generation gets SIGTERM, SIGKILL --kill-grace later; resolves once all have exited. */
  async terminateAll(): Promise<GenerationRef[]> {
    const live = this.#registry.live();
    for (const generation of live) this.#ladder.terminate(generation);
    await Promise.all(live.map((generation) => generation.exited));
    return live.map((generation) => ({ id: generation.id, pid: generation.pid }));
  }

  /** Graceful stop: every live generation drains, to be gone by `deadline` at the latest; resolves once all have exited. */
  async drainAll(deadline: Date): Promise<void> {
    const live = this.#registry.live();
    for (const generation of live) {
      this.#ladder.drain(generation, deadline);
      this.#ladder.expedite(generation, deadline);
    }
    this.emit('changed');
    await Promise.all(live.map((generation) => generation.exited));
  }

  /** Stops every timer (after a stop). */
  close(): void {
    this.#ladder.clear();
  }

  /** The generation that serves new connections, if any. */
  active(): Generation | undefined {
    return this.#registry.active();
  }

  /** Generations not yet exited, oldest first. */
  live(): Generation[] {
    return this.#registry.live();
  }

  draining(): Generation[] {
    return this.live().filter((generation) => generation.state === 'draining');
  }

  /** Records of live generations then exited ones, newest first. */
  records(): GenerationRecord[] {
    return this.#registry.records();
  }

  /** The id the next generation gets (persisted: ids stay monotonic across supervisor restarts). */
  get nextId(): number {
    return this.#registry.nextId;
  }

  /** Registers a generation and watches its exit; spawned and adopted ones alike. */
  #track(generation: Generation): Generation {
    this.#registry.add(generation);
    void generation.exited.then(async (exit) => {
      const reason = generation.markExited(exit);
      this.#ladder.forget(generation);
      this.#registry.retire(generation);
      // First, so that a crash's replacement is asked for in the tick the exit is seen, before any bookkeeping.
      this.emit('exited', generation, reason);
      generation.log[reason === 'drained' ? 'info' : 'warn']({ code: exit.code, signal: exit.signal, reason }, 'generation exited');
      this.emit('changed');
      await unlink(generation.record.socket).catch(() => undefined);
    });
    this.emit('changed');
    return generation;
  }
}

function logLine(generation: Generation, line: string): void {
  generation.remember(line);
  const level = LEVELS.find(([pattern]) => pattern.test(line))?.[1] ?? 'info';
  generation.log[level]({ haproxy: line }, 'haproxy');
}
