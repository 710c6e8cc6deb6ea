import { setTimeout as sleep } from 'node:timers/promises';
import type { StatRow } from '../haproxy/stat.js';

/** How the verify window runs: its length, and how long at least to compare 5xx answers (0: not compared). */
export type VerifySettings = { windowMs: number; observeMs: number };

/** What `show stat` of a generation says (haproxy/stat.ts), or a reason it could not be read. */
export type StatSource = () => Promise<StatRow[]>;

/** A backend that failed the check, with each server's state as the new generation reported it. */
export type BackendEvidence = { backend: string; servers: Array<{ name: string; status: string; check: string }> };

/** Why a new generation was rolled back. */
export type VerifyFailure = { reason: string; evidence: BackendEvidence[] };

/** Statuses of a server that is taking traffic (`no check`: assumed up, as haproxy does). */
const isUp = (row: StatRow): boolean => row.status.startsWith('UP') || row.status.startsWith('DRAIN') || row.status === 'no check';

/** A server whose first check has not completed yet. */
const isPending = (row: StatRow): boolean => row.checkStatus === 'INI' || (row.checkStatus === '' && row.status !== 'no check' && !row.status.startsWith('MAINT'));

/** A server that passed its first check (or has none). */
const hasPassed = (row: StatRow): boolean => row.status === 'no check' || (!isPending(row) && (row.status.startsWith('UP') || row.status.startsWith('DRAIN')));

const servers = (rows: StatRow[]): StatRow[] => rows.filter((row) => row.name !== 'FRONTEND' && row.name !== 'BACKEND');

/** Rows by proxy name (a config of 5 000 backends has 20 000 server rows: no scan per backend). */
function groupByProxy(rows: StatRow[]): Map<string, StatRow[]> {
  const groups = new Map<string, StatRow[]>();
  for (const row of rows) {
    const group = groups.get(row.proxy);
    if (group === undefined) groups.set(row.proxy, [row]);
    else group.push(row);
  }
  return groups;
}

/** 5xx answers and all answers of the frontends. */
function answers(rows: StatRow[]): { errors: number; total: number } {
  const frontends = rows.filter((row) => row.name === 'FRONTEND');
  return { errors: frontends.reduce((sum, row) => sum + row.responses5xx, 0), total: frontends.reduce((sum, row) => sum + row.responses, 0) };
}

/**
 * Whether a window has anything to decide for a config: health checks need a `server` (or `server-template`) line,
 * and without one only the 5xx comparison (`observeMs`) is left. Without either it could only pass, after a `show stat`
 * of each generation: the reload does not open it.
 */
export function windowHasWork(configHasServers: boolean, settings: VerifySettings): boolean {
  return configHasServers || settings.observeMs > 0;
}

/** The least number of answers of the new generation before its 5xx share is judged. */
const MIN_ANSWERS = 20;

/**
 * The verify window, before any older generation is told to finish: both generations accept on the shared
 * sockets while the new one proves it can reach what the running one reaches. Every backend with a server up in
 * the running generation must have, in the new generation, a server whose first health check completed and passed
 * (a server without `check` counts as passed); with `observeMs`, the new generation's share of 5xx answers over that
 * time must not be far above the running one's (above both twice it and it plus 5 points, on at least 20 answers).
 * Ends as soon as it is decided: a configuration without health checks and without `observeMs` adds no wait.
 * Resolves with undefined when the new generation passes.
 */
export async function verifyGeneration(current: StatSource, candidate: StatSource, settings: VerifySettings): Promise<VerifyFailure | undefined> {
  const started = performance.now();
  const before = await current();
  const backends = [...new Set(servers(before).filter(isUp).map((row) => row.proxy))];
  // Nothing the running generation reaches, nothing to compare: decided without asking the new one.
  if (backends.length === 0 && settings.observeMs === 0) return undefined;
  // The 5xx counters from here on, only when they are compared (a stat of 20 000 servers is not free).
  const baseline = settings.observeMs > 0 ? { current: answers(before), candidate: answers(await candidate()) } : undefined;
  for (;;) {
    const rows = await candidate();
    const elapsed = performance.now() - started;
    const evidence: BackendEvidence[] = [];
    let pending = false;
    const byBackend = groupByProxy(servers(rows));
    for (const backend of backends) {
      const own = byBackend.get(backend) ?? [];
      if (own.length === 0 || own.some(hasPassed)) continue; // gone from the config, or reachable
      if (own.some(isPending) && elapsed < settings.windowMs) {
        pending = true;
        continue;
      }
      evidence.push({ backend, servers: own.map((row) => ({ name: row.name, status: row.status, check: [row.checkStatus, row.lastCheck].filter((part) => part !== '').join(' ') })) });
    }
    if (evidence.length > 0) {
      const names = evidence.map((item) => item.backend).join(', ');
      return { reason: `no server of ${names} passed its first health check in the new generation${elapsed >= settings.windowMs ? ` within the verify window (${Math.round(settings.windowMs)} ms)` : ''}, while the running generation reaches ${evidence.length === 1 ? 'it' : 'them'}`, evidence };
    }
    if (!pending && elapsed >= settings.observeMs) return baseline === undefined ? undefined : compareErrors(baseline, answers(await current()), answers(rows));
    await sleep(Math.min(50, Math.max(5, settings.windowMs - elapsed)));
  }
}

/** The 5xx comparison over the observation time (see verifyGeneration). */
function compareErrors(baseline: { current: { errors: number; total: number }; candidate: { errors: number; total: number } }, current: { errors: number; total: number }, candidate: { errors: number; total: number }): VerifyFailure | undefined {
  const old = { errors: current.errors - baseline.current.errors, total: current.total - baseline.current.total };
  const young = { errors: candidate.errors - baseline.candidate.errors, total: candidate.total - baseline.candidate.total };
  if (young.total < MIN_ANSWERS) return undefined;
  const share = (counts: { errors: number; total: number }): number => (counts.total === 0 ? 0 : counts.errors / counts.total);
  const [oldShare, youngShare] = [share(old), share(young)];
  if (youngShare <= Math.max(2 * oldShare, oldShare + 0.05)) return undefined;
  const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;
  return { reason: `the new generation answered ${percent(youngShare)} of ${young.total} requests with 5xx during the verify window, the running one ${percent(oldShare)} of ${old.total}`, evidence: [] };
}
