import { EventEmitter } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ExitReason } from '../control/types.js';
import { generationArgv } from '../haproxy/argv.js';
import { haproxyEnv, type HaproxyVariables } from '../haproxy/environment.js';
import { fragmentPath, generationSocketPath } from '../haproxy/supervisor-socket.js';
import { adoptProcess } from '../system/adopted.js';
import { crashPoint } from '../system/crash-point.js';
import { mayRaisePriority, setNice, setNiceAllThreads } from '../system/priority.js';
import { identify, readComm, readState } from '../system/proc.js';
import { parentPid, processesNamed, unixSocketHolders } from '../system/processes.js';
import { spawnChild, type ChildHandle } from '../system/spawn.js';
import { gatherCandidates, highestId, livenessOf, masterAndWorkers, planAdoption, type AdoptionPlan } from './adoption.js';
import { EscalationLadder } from './escalation.js';
import { Generation, type GenerationRecord } from './generation.js';
import { Registry } from './registry.js';
import { runDirProcesses } from './run-dir-processes.js';
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
  /** Nice value of a generation while it starts beside a serving one (0: off). */
  startNice: number;
  log: Logger;
};

/** How a generation is launched: `lowPriority` while it starts (beside one that serves, and no `nice` of its own). */
export type LaunchOptions = { lowPriority?: boolean };

/** `changed`: a record changed (state.json); `exited`: a generation ended, its record says how; `escalated`: SIGTERM or SIGKILL sent. */
export type FleetEvents = { changed: []; exited: [generation: Generation, reason: ExitReason]; escalated: [signal: 'SIGTERM' | 'SIGKILL'] };

/** A generation about to be spawned (state.json names it when a checkpoint is written before that spawn). */
export type PendingGeneration = { id: number; socket: string; since: string };

/** Makes sure state.json's counters are past the ids taken for the spawn about to happen; on disk when this returns. */
export interface Checkpoint {
  checkpoint(): void;
}

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
  #pending: PendingGeneration | undefined;
  #checkpoint: Checkpoint | undefined;
  /** Pids of generations started at a low priority, until they serve. */
  readonly #lowered = new Set<number>();
  /** Whether a lowered priority can be raised back (root with CAP_SYS_NICE); decided once. */
  readonly #mayRaise = mayRaisePriority();

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
   * Takes over what a previous supervisor left running, whatever instant it died at: the generations state.json
   * recorded that are still alive (same pid and /proc start time, comm haproxy) and every generation of this run dir
   * that /proc shows but state.json did not name yet (spawned just before the crash). Each is probed, then
   * adoption.ts decides: exactly one becomes (or stays) active, the others drain, resume their deadlines, or are
   * ended like a start that failed. Ids continue above every id seen. With `takeover` (`run --takeover`) and no
   * active generation adopted, what holds that socket is taken over too.
   */
  async restore(records: GenerationRecord[], nextId: number, takeover?: string): Promise<Generation[]> {
    const found = runDirProcesses(this.#options.runDir);
    this.#registry = new Registry(Math.max(nextId, highestId(records, found) + 1), this.#options.historySize);
    const gathered = gatherCandidates(records, found, () => this.#registry.takeId());
    const candidates = await Promise.all(gathered.map(async (candidate) => ({ ...candidate, liveness: await livenessOf(candidate.record) })));
    const plan = planAdoption(candidates);
    const adopted: Generation[] = [];
    for (const { record, recorded, liveness } of candidates.sort((a, b) => a.record.id - b.record.id)) {
      const log = this.#options.log.child({ gen: record.id, pid: record.pid });
      const generation = this.#track(new Generation(record, adoptProcess(record), log));
      log.warn({ state: record.state, recorded, liveness, deadline: record.deadline }, 'adopted a generation left running by a previous supervisor');
      adopted.push(generation);
    }
    this.#carryOut(plan);
    // The previous supervisor may have died between the active one's ready and raising its priority back.
    const active = this.active();
    if (active !== undefined && this.#options.startNice > 0 && this.#mayRaise) this.#raise(active);
    if (takeover !== undefined && plan.active === undefined) adopted.push(...this.takeOver(path.resolve(takeover)));
    return adopted;
  }

  /**
   * After a failed hand-over (`upgrade`): adopts the generations of this run dir that this supervisor does not know
   * (a successor that died after it spawned one), the same way as `restore`. Returns them.
   */
  async adoptStrangers(): Promise<Generation[]> {
    const known = new Set(this.#registry.live().map((generation) => generation.pid));
    const strangers = runDirProcesses(this.#options.runDir).filter((process) => !known.has(process.pid));
    if (strangers.length === 0) return [];
    const gathered = gatherCandidates([], strangers, () => this.#registry.takeId());
    const current = this.active();
    const candidates = await Promise.all(gathered.map(async (candidate) => ({ ...candidate, liveness: await livenessOf(candidate.record) })));
    const adopted = candidates.map(({ record, liveness }) => {
      const log = this.#options.log.child({ gen: record.id, pid: record.pid });
      log.warn({ liveness }, 'adopted a generation this supervisor did not start (left by a failed hand-over)');
      return this.#track(new Generation(record, adoptProcess(record), log));
    });
    // Ours stays active when it serves; the strangers then never were accepted.
    const ours = current === undefined ? [] : [{ record: current.record, recorded: true, liveness: await livenessOf(current.record) }];
    this.#carryOut(planAdoption([...ours, ...candidates]));
    return adopted;
  }

  /** Applies an adoption plan (adoption.ts) to tracked generations. */
  #carryOut(plan: AdoptionPlan): void {
    const deadline = new Date(Date.now() + this.#options.drainTimeoutMs);
    const byId = (id: number): Generation | undefined => this.#registry.live().find((generation) => generation.id === id);
    const active = plan.active === undefined ? undefined : byId(plan.active);
    if (active !== undefined && active.state !== 'active') this.activate(active);
    for (const id of plan.resume) {
      const generation = byId(id);
      if (generation !== undefined) this.#ladder.resume(generation);
    }
    for (const id of plan.drain) {
      const generation = byId(id);
      if (generation !== undefined) this.#ladder.drain(generation, deadline);
    }
    for (const id of plan.abandon) {
      const generation = byId(id);
      if (generation !== undefined) this.#ladder.abandon(generation);
    }
    for (const id of plan.terminate) {
      const generation = byId(id);
      if (generation !== undefined) this.#ladder.terminateHung(generation);
    }
    this.#ladder.enforceCap(this.draining());
    this.emit('changed');
  }

  /**
   * `run --takeover <socket>`: the haproxy processes this supervisor did not start that hold that stats socket
   * (a master-worker worker) and their haproxy parent (its master) become generations, the worker active with that
   * socket as its own: the first reload takes the listeners from it (-x) and then retires them all (SIGUSR1,
   * deadline, escalation), shown in status until they exit. Returns them (none when nothing holds the socket).
   */
  takeOver(socketPath: string): Generation[] {
    const { workers, masters } = masterAndWorkers(unixSocketHolders(socketPath, processesNamed('haproxy')), parentPid, (pid) => readComm(pid) === 'haproxy');
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

  /**
   * Spawns the next generation: `haproxy -db … [-x transferFrom]`, its output logged line by line with its id and
   * pid. Its id is reserved on disk before the spawn (the checkpoint), so that a supervisor killed at any instant
   * never lets its successor give that id out again; the successor finds the generation by what it runs.
   */
  async launch(transferFrom: string | undefined, launch: LaunchOptions = {}): Promise<Generation> {
    const id = this.#registry.takeId();
    const socket = generationSocketPath(this.#options.runDir, id);
    // Synchronous: microseconds, and a respawn must not wait for two thread-pool round trips before its spawn.
    mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
    rmSync(socket, { force: true });
    const args = generationArgv({ config: this.#options.config, fragment: fragmentPath(this.#options.runDir), transferFrom });
    this.#pending = { id, socket, since: new Date().toISOString() };
    try {
      this.#checkpoint?.checkpoint();
      crashPoint('before-spawn');
      // Lines can arrive before the Generation exists; they are kept and handed over.
      const early: string[] = [];
      const spawned: { generation?: Generation } = {};
      const child: ChildHandle = await spawnChild(this.#options.haproxy, args, {
        env: haproxyEnv(socket, this.#options.variables),
        onLine: (line) => (spawned.generation === undefined ? early.push(line) : logLine(spawned.generation, line)),
      });
      // Before haproxy starts its threads (they inherit it): its parse and certificate loading then yield the CPU to
      // the generation that serves. Only where the nice value can be raised back once it serves.
      if (launch.lowPriority === true && this.#options.startNice > 0 && this.#mayRaise && setNice(child.pid, this.#options.startNice)) this.#lowered.add(child.pid);
      const log = this.#options.log.child({ gen: id, pid: child.pid });
      const record: GenerationRecord = { id, pid: child.pid, startTime: child.identity.startTime, startedAt: new Date().toISOString(), socket, state: 'starting' };
      this.#pending = undefined;
      const generation = this.#track(new Generation(record, child, log));
      spawned.generation = generation;
      for (const line of early) generation.remember(line);
      log.info({ argv: [this.#options.haproxy, ...args] }, 'generation spawned');
      crashPoint('after-spawn');
      return generation;
    } finally {
      this.#pending = undefined;
    }
  }

  /** The generation about to be spawned, if any (state.json's `pending`). */
  pending(): PendingGeneration | undefined {
    return this.#pending;
  }

  /** Where launch makes sure state.json names the generation about to start before it spawns it. */
  useCheckpoint(checkpoint: Checkpoint): void {
    this.#checkpoint = checkpoint;
  }

  /** Waits until a generation proves it serves (wait-serving.ts); one that started at a low priority gets it raised back. */
  async waitServing(generation: Generation, timeoutMs: number): Promise<NotServing | undefined> {
    const notServing = await waitServing(generation, timeoutMs);
    if (notServing === undefined && this.#lowered.delete(generation.pid)) this.#raise(generation);
    return notServing;
  }

  /** Every thread of a generation back at the supervisor's own nice value. */
  #raise(generation: Generation): void {
    if (!setNiceAllThreads(generation.pid, os.getPriority())) generation.log.warn('could not raise the priority of this generation back after its start');
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
      // A stopped process (SIGSTOP, a debugger) would never act on SIGUSR1: it is hung. The watchdog finds it too,
      // but not when it is off, and a new generation that took its listeners from the keeper never asked it.
      const state = readState(generation.pid);
      if (generation.record.hung === undefined && (state === 'T' || state === 't')) {
        this.markHung(generation, `process stopped (state ${state}: SIGSTOP or a debugger)`);
        generation.log.error({ state }, 'a generation to retire is stopped: terminating it as hung');
      }
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
      generation.log[reason === 'drained' ? 'info' : 'warn']({ code: exit.code, signal: exit.signal, reason, proxiesStopped: generation.proxiesStopped }, 'generation exited');
      this.emit('changed');
      await unlink(generation.record.socket).catch(() => undefined);
    });
    this.emit('changed');
    return generation;
  }
}

/**
 * The line haproxy writes (as a WARNING) for every proxy a soft stop has stopped: routine, one per frontend and
 * backend, so 5 000 lines per reload of a 5 000-backend config. haproxy sends the same to its own logs. They are
 * counted (`proxiesStopped` on the exit line) and logged at debug, and kept out of the tail error reports show.
 */
const PROXY_STOPPED = /^\[WARNING\]\s+\(\d+\) : Proxy \S+ stopped \(cumulated conns: FE: \d+, BE: \d+\)\.$/;

function logLine(generation: Generation, line: string): void {
  if (PROXY_STOPPED.test(line)) {
    generation.proxiesStopped++;
    generation.log.debug({ haproxy: line }, 'haproxy');
    return;
  }
  generation.remember(line);
  const level = LEVELS.find(([pattern]) => pattern.test(line))?.[1] ?? 'info';
  generation.log[level]({ haproxy: line }, 'haproxy');
}
