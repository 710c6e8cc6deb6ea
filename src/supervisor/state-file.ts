import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ExitReason, GenerationState, ReloadResult, SupervisorState } from '../control/types.js';
import { writeFileAtomicSync } from '../system/atomic-write.js';
import type { RunDirAccess } from '../system/run-dir.js';
import type { PendingGeneration } from './fleet.js';
import type { Escalation, GenerationRecord } from './generation.js';

/** state.json: enough to keep ids monotonic and to re-identify generations after a supervisor restart. */
export type PersistedState = {
  version: 1;
  nextGenerationId: number;
  nextReloadId: number;
  supervisor?: { pid: number; startedAt: string; version: string; state: SupervisorState; config: string[] };
  generations: GenerationRecord[];
  /** The generation about to be spawned (its id and socket), written before the spawn; absent otherwise. */
  pending?: PendingGeneration;
  /** The socket keeper (a successor finds it by what it runs; this says which one it was). */
  keeper?: { pid: number; startTime: number };
  lastReload: ReloadResult | null;
};

/** The id counters: the next generation id and the next reload id. */
export type Counters = { generation: number; reload: number };

/** How many ids of each counter a checkpoint reserves at once (IdReservation). */
export const RESERVED_IDS = 16;

/**
 * Keeps the checkpoint before a spawn rare. state.json's counters must be past every id given out before the
 * generation that has it is spawned: a successor started after a crash at any instant then never gives one out again
 * (its socket path, its lines in the log and the history stay its own). A checkpoint writes them RESERVED_IDS ahead,
 * every later write keeps them there (`counters`), and the spawns of the next RESERVED_IDS reloads need no write of
 * their own: a write is about a tenth of the daemon's CPU per reload, and on ext4 the machine pays about 0.5 ms more,
 * since replacing a file by rename flushes the new one at once. A stop writes the counters exact again (`drop`);
 * after a crash or an upgrade, the successor's ids continue after the reserved ones.
 */
export class IdReservation {
  #reserved: Counters = { generation: 0, reload: 0 };

  /** Whether state.json must be written before a spawn, given the counters once its ids were taken (`next`). */
  needsCheckpoint(next: Counters): boolean {
    return next.generation > this.#reserved.generation || next.reload > this.#reserved.reload;
  }

  /** Reserves the ids after `next`: the checkpoint about to be written carries them. */
  reserve(next: Counters): void {
    this.#reserved = { generation: next.generation + RESERVED_IDS, reload: next.reload + RESERVED_IDS };
  }

  /** Nothing is reserved any more: the checkpoint could not be written, or the supervisor stops (exact counters). */
  drop(): void {
    this.#reserved = { generation: 0, reload: 0 };
  }

  /** The counters to write: `next`, or the reserved ones where they are ahead. */
  counters(next: Counters): Counters {
    return { generation: Math.max(next.generation, this.#reserved.generation), reload: Math.max(next.reload, this.#reserved.reload) };
  }
}

/** The state to persist, from the parts that own it; the counters as `reservation` keeps them ahead, if given. */
export function snapshot(
  parts: {
    fleet: { nextId: number; records(): GenerationRecord[]; pending(): PendingGeneration | undefined };
    history: { nextId: number; last(): ReloadResult | null };
    keeper: { recorded(): { pid: number; startTime: number } | undefined };
  },
  supervisor: NonNullable<PersistedState['supervisor']>,
  reservation?: IdReservation,
): PersistedState {
  const { fleet, history } = parts;
  const pending = fleet.pending();
  const keeper = parts.keeper.recorded();
  const next = { generation: fleet.nextId, reload: history.nextId };
  const counters = reservation?.counters(next) ?? next;
  return {
    version: 1,
    nextGenerationId: counters.generation,
    nextReloadId: counters.reload,
    supervisor,
    generations: fleet.records(),
    ...(pending === undefined ? {} : { pending }),
    ...(keeper === undefined ? {} : { keeper: { pid: keeper.pid, startTime: keeper.startTime } }),
    lastReload: history.last(),
  };
}

/** A fresh state: what a missing or unreadable state.json gives. */
export const EMPTY_STATE: PersistedState = { version: 1, nextGenerationId: 1, nextReloadId: 1, generations: [], lastReload: null };

const STATES: readonly GenerationState[] = ['starting', 'active', 'draining', 'exited'];
const ESCALATIONS: readonly Escalation[] = ['term', 'kill', 'terminate', 'hung'];
const REASONS: readonly ExitReason[] = ['drained', 'killed', 'deadline-term', 'deadline-kill', 'crashed', 'failed-start', 'terminated', 'hung'];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPositiveInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0;
const isString = (value: unknown): value is string => typeof value === 'string';
const optionalString = (value: unknown): value is string | undefined => value === undefined || isString(value);

/**
 * A generation record as a previous supervisor wrote it, or undefined when any field is off: such a record is
 * dropped, so nothing is ever signalled on the strength of a malformed entry.
 */
export function parseGenerationRecord(value: unknown): GenerationRecord | undefined {
  if (!isObject(value)) return undefined;
  const { id, pid, startTime, startedAt, socket, state, readyAt, drainingSince, deadline, escalation, adopted, exit, hung } = value;
  if (!isPositiveInteger(id) || !isPositiveInteger(pid) || typeof startTime !== 'number' || !Number.isInteger(startTime) || startTime < 0) return undefined;
  if (!isString(startedAt) || !isString(socket) || !STATES.includes(state as GenerationState)) return undefined;
  if (!optionalString(readyAt) || !optionalString(drainingSince) || !optionalString(deadline)) return undefined;
  if (deadline !== undefined && Number.isNaN(Date.parse(deadline))) return undefined;
  if (escalation !== undefined && !ESCALATIONS.includes(escalation as Escalation)) return undefined;
  const record: GenerationRecord = { id, pid, startTime, startedAt, socket, state: state as GenerationState };
  if (readyAt !== undefined) record.readyAt = readyAt;
  if (drainingSince !== undefined) record.drainingSince = drainingSince;
  if (deadline !== undefined) record.deadline = deadline;
  if (escalation !== undefined) record.escalation = escalation as Escalation;
  if (adopted === true) record.adopted = true;
  if (isObject(hung) && isString(hung['at']) && isString(hung['reason'])) record.hung = { at: hung['at'], reason: hung['reason'] };
  if (isObject(exit) && REASONS.includes(exit['reason'] as ExitReason) && isString(exit['at'])) {
    const code = typeof exit['code'] === 'number' ? exit['code'] : null;
    const signal = isString(exit['signal']) ? exit['signal'] : null;
    record.exit = { code, signal, reason: exit['reason'] as ExitReason, at: exit['at'] };
  }
  return record;
}

/** Validates state.json's content; anything malformed falls back to fresh values, field by field. */
export function parseState(text: string): PersistedState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return EMPTY_STATE;
  }
  if (!isObject(value)) return EMPTY_STATE;
  const generations = Array.isArray(value['generations']) ? value['generations'].map(parseGenerationRecord) : [];
  const lastReload = value['lastReload'];
  const pending = value['pending'];
  const nextGenerationId = isPositiveInteger(value['nextGenerationId']) ? value['nextGenerationId'] : 1;
  const pendingId = isObject(pending) && isPositiveInteger(pending['id']) ? pending['id'] : 0;
  return {
    version: 1,
    // Never below a generation about to start: its id (and socket path) are taken even if it never ran.
    nextGenerationId: Math.max(nextGenerationId, pendingId + 1),
    nextReloadId: isPositiveInteger(value['nextReloadId']) ? value['nextReloadId'] : 1,
    generations: generations.filter((record): record is GenerationRecord => record !== undefined),
    ...(isObject(pending) && pendingId > 0 && isString(pending['socket']) && isString(pending['since']) ? { pending: { id: pendingId, socket: pending['socket'], since: pending['since'] } } : {}),
    lastReload: isObject(lastReload) && isPositiveInteger(lastReload['id']) && typeof lastReload['ok'] === 'boolean' ? (lastReload as ReloadResult) : null,
  };
}

/** What another supervisor recorded in its state.json: its config files and live generations' pids (empty when unreadable). */
export function readPeerState(file: string): { config: string[]; generations: number[] } {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const config = isObject(value) && isObject(value['supervisor']) ? value['supervisor']['config'] : undefined;
    const generations = parseState(JSON.stringify(value)).generations.filter((record) => record.state !== 'exited');
    return { config: Array.isArray(config) ? config.filter(isString) : [], generations: generations.map((record) => record.pid) };
  } catch {
    return { config: [], generations: [] };
  }
}

/** Reads state.json; a missing or unreadable file gives fresh counters (never a crash). */
export async function loadState(file: string): Promise<PersistedState> {
  try {
    return parseState(await readFile(file, 'utf8'));
  } catch {
    return EMPTY_STATE;
  }
}

/**
 * How long state.json waits after a change for the next ones (a reload's dozen changes come within its start, and the
 * old generation's exit a few ms after it), and the longest it ever lags behind: a successor copes with any staleness.
 */
const QUIET_MS = 50;
const MAX_LAG_MS = 1000;

/**
 * Writes state.json atomically, without piling up writes: a burst of saves becomes one write of the newest state,
 * QUIET_MS after the last save of the burst and at most MAX_LAG_MS after its first. While a reload runs (`hold` to
 * `release`) a save waits for its end, or MAX_LAG_MS: its generation's start can take longer than QUIET_MS, and a
 * successor finds a generation state.json does not name yet by what it runs. A reload thus costs one write, however
 * long its start, once it and the old generation's exit are done, and one reload in RESERVED_IDS a checkpoint before
 * its spawn (`settled`, IdReservation). The state is taken when the write happens (`save` gets how to take it), not
 * at every save. The write is synchronous: a few KiB to the run dir cost less CPU as plain system calls than as six
 * thread-pool round trips, and a checkpoint before a spawn is then on disk when it returns.
 */
export class StateStore {
  readonly #file: string;
  readonly #log: Logger;
  readonly #access: Pick<RunDirAccess, 'fileMode' | 'gid'>;
  #next: (() => PersistedState) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** When the oldest save not yet written came (Date.now()). */
  #since: number | undefined;
  /** A reload runs: saves wait for its end (or MAX_LAG_MS), not for QUIET_MS. */
  #held = false;

  constructor(file: string, log: Logger, access: Pick<RunDirAccess, 'fileMode' | 'gid'> = { fileMode: 0o600, gid: undefined }) {
    this.#file = file;
    this.#log = log;
    this.#access = access;
  }

  /** Schedules a write of the state `take` returns when its turn comes (so it shows the newest values). */
  save(take: () => PersistedState): void {
    this.#next = take;
    this.#since ??= Date.now();
    this.#schedule();
  }

  /** A reload begins: saves from now on wait for `release` (or MAX_LAG_MS). */
  hold(): void {
    this.#held = true;
  }

  /** The reload ended: what it saved is written QUIET_MS after the last save (the old generation's exit follows soon). */
  release(): void {
    this.#held = false;
    if (this.#next !== undefined) this.#schedule();
  }

  #schedule(): void {
    const now = Date.now();
    const lag = (this.#since ?? now) + MAX_LAG_MS - now;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#flush();
      },
      Math.max(0, this.#held ? lag : Math.min(QUIET_MS, lag)),
    );
  }

  /** Writes what was saved and not yet written, now; false when that write failed (else it is on disk). */
  settled(): boolean {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#flush();
  }

  #flush(): boolean {
    const take = this.#next;
    if (take === undefined) return true;
    this.#next = undefined;
    this.#since = undefined;
    try {
      // Not fsynced: state.json serves a successor after a crash of this process (the rename is enough for that);
      // after a power loss no haproxy it names is alive anyway. A journal commit per change cost every reload.
      writeFileAtomicSync(this.#file, `${JSON.stringify(take(), null, 2)}\n`, { mode: this.#access.fileMode, gid: this.#access.gid, durable: false });
      return true;
    } catch (error) {
      this.#log.error({ err: error, file: this.#file }, 'cannot write state.json');
      return false;
    }
  }
}
