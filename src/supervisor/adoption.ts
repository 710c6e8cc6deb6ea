import { showInfo } from '../haproxy/runtime-api.js';
import { isSameProcess, readComm, readState, startDate } from '../system/proc.js';
import type { GenerationRecord } from './generation.js';
import type { RunDirProcess } from './run-dir-processes.js';

/**
 * What a generation left by a previous supervisor is doing: `serving` (answers `show info` with its pid and is not
 * stopping), `stopping` (soft-stopped: it says so, or its admin socket refuses connections once unbound) or `silent`
 * (still starting, stopped or stuck: no answer).
 */
export type Liveness = 'serving' | 'stopping' | 'silent';

/** A generation to adopt: its record (from state.json, or made up from /proc), whether state.json named it, and its liveness. */
export type Candidate = { record: GenerationRecord; recorded: boolean; liveness: Liveness };

/**
 * What becomes of adopted generations. `active`: serves new connections from now on (the next generation takes its
 * listeners over). `resume`: already being ended (draining, or escalated): their deadlines resume. `drain`: soft stop
 * with a fresh deadline. `abandon`: never served, ended like a start that failed. `terminate`: hung, ended at once.
 */
export type AdoptionPlan = { active: number | undefined; resume: number[]; drain: number[]; abandon: number[]; terminate: number[] };

/**
 * Decides, for generations found alive after a supervisor died at any instant (mid-reload included), which one is
 * active so that exactly one remains, and how each other one ends. The active one is the newest that serves among
 * those state.json called active (a reload that had not yet accepted its new generation is rolled back); failing
 * that, the newest that serves at all (the recorded active one was already told to finish, or crashed); failing that,
 * the newest recorded active one even if silent (the watchdog decides whether it is hung). Every other one that
 * serves or stops drains with a deadline, a silent one that never served is abandoned, a hung one terminated.
 */
export function planAdoption(candidates: Candidate[]): AdoptionPlan {
  const plan: AdoptionPlan = { active: undefined, resume: [], drain: [], abandon: [], terminate: [] };
  const newestFirst = [...candidates].sort((a, b) => b.record.id - a.record.id);
  const ending = (candidate: Candidate): boolean => candidate.record.state === 'draining' || candidate.record.escalation !== undefined;
  const open = newestFirst.filter((candidate) => !ending(candidate));
  const calledActive = (candidate: Candidate): boolean => candidate.recorded && candidate.record.state === 'active';
  const active =
    open.find((candidate) => calledActive(candidate) && candidate.liveness === 'serving' && candidate.record.hung === undefined) ??
    open.find((candidate) => candidate.liveness === 'serving' && candidate.record.hung === undefined) ??
    open.find((candidate) => calledActive(candidate) && candidate.liveness === 'silent');
  plan.active = active?.record.id;
  for (const candidate of newestFirst) {
    const { id } = candidate.record;
    if (candidate === active) continue;
    if (ending(candidate)) plan.resume.push(id);
    else if (candidate.record.hung !== undefined) plan.terminate.push(id);
    else if (candidate.liveness !== 'silent' || calledActive(candidate)) plan.drain.push(id);
    else plan.abandon.push(id);
  }
  return plan;
}

/**
 * The generations to adopt: the live ones state.json recorded (same pid and start time, comm haproxy), and every
 * generation of the run dir /proc shows that it did not name (spawned just before the supervisor died). Those get
 * the id of their socket, or `takeId()` when unknown or already taken.
 */
export function gatherCandidates(records: GenerationRecord[], found: RunDirProcess[], takeId: () => number): Array<Omit<Candidate, 'liveness'>> {
  const gathered: Array<Omit<Candidate, 'liveness'>> = [];
  for (const record of records) {
    if (record.state === 'exited' || !isSameProcess(record) || readComm(record.pid) !== 'haproxy') continue;
    gathered.push({ record: { ...record, adopted: true }, recorded: true });
  }
  for (const process of found) {
    if (gathered.some(({ record }) => record.pid === process.pid && record.startTime === process.startTime)) continue;
    const idFree = process.id !== undefined && !gathered.some(({ record }) => record.id === process.id);
    const id = idFree && process.id !== undefined ? process.id : takeId();
    const record: GenerationRecord = { id, pid: process.pid, startTime: process.startTime, startedAt: startDate(process.startTime).toISOString(), socket: process.socket ?? '', state: 'starting', adopted: true };
    gathered.push({ record, recorded: false });
  }
  return gathered;
}

/** The highest generation id among records and found processes (0 for none). */
export function highestId(records: GenerationRecord[], found: RunDirProcess[]): number {
  return Math.max(0, ...records.map((record) => record.id), ...found.map((process) => process.id ?? 0));
}

/** How long a found generation gets to answer `show info` before it counts as silent. */
const PROBE_MS = 1000;

/** Probes a generation left running: see Liveness. */
export async function livenessOf(record: Pick<GenerationRecord, 'pid' | 'socket'>, timeoutMs = PROBE_MS): Promise<Liveness> {
  const state = readState(record.pid);
  if (state === 'T' || state === 't' || record.socket === '') return 'silent';
  try {
    const info = await showInfo(record.socket, timeoutMs);
    if (info.get('Pid') !== String(record.pid)) return 'silent';
    return info.get('Stopping') === '1' ? 'stopping' : 'serving';
  } catch (error) {
    // A soft-stopped haproxy has unbound its admin socket: the file is still there, nobody accepts on it.
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'stopping' : 'silent';
  }
}

/**
 * `run --takeover`: the haproxy processes holding a master-worker haproxy's stats socket are its workers, and their
 * haproxy parent its master. A master holds the socket too between forking its worker and re-executing itself into
 * wait mode (a window that load widens): a holder that is another holder's haproxy parent is a master, never the
 * one to take listeners from.
 */
export function masterAndWorkers(holders: number[], parentOf: (pid: number) => number | undefined, isHaproxy: (pid: number) => boolean): { workers: number[]; masters: number[] } {
  const masters = [...new Set(holders.map(parentOf).filter((pid): pid is number => pid !== undefined && isHaproxy(pid)))];
  return { workers: holders.filter((pid) => !masters.includes(pid)), masters };
}
