import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../test/helpers/os-probes.js';
import { reloadEvery, takingTurns } from './sections.js';
import { quantile } from './stats.js';
import { BENCH_MARKER, Subject, type Mode } from './subjects.js';

/**
 * Reload under load, request by request: where in a reload live latency goes up, and for how long. The client
 * (timeline-client.c, compiled here with `cc`) records when each request started; each request is placed at its time
 * since the last reload was asked for. `bins`: p95 of the requests started 0–20, 20–40, … 80–100 ms after it;
 * `steadyP95`: of those started from 100 ms on, until the next one is near; `excessMsPerReload`: the latency above
 * the steady median, summed over the requests of the first 200 ms, per reload (no reloads: the same sum at the times
 * a reload would have been asked for, the floor of that figure).
 */
export type TimelineRow = {
  mode: Mode;
  turns: number;
  reloads: number;
  requests: number;
  failed: number;
  p95Ms: number;
  bins: number[];
  steadyP95: number;
  excessMsPerReload: number;
  /** Each turn's p95, in round order (round i of every mode ran back to back: pairs); absent in earlier results. */
  turnP95s?: number[];
};

export const TIMELINE_BIN_MS = 20;
const BINS = 5;
const CONCURRENCY = 100;

/**
 * The client, built once per section into a temp dir: with TLS (OpenSSL's headers, libssl-dev) when `tls`;
 * `missing` (with the reason) when it cannot be built.
 */
function buildClient(dir: string, tls: boolean): string | { missing: string } {
  const source = path.resolve(import.meta.dirname, '../../bench/timeline-client.c');
  const binary = path.join(dir, 'timeline-client');
  try {
    execFileSync('cc', ['-O2', '-o', binary, source, ...(tls ? ['-DWITH_TLS', '-lssl', '-lcrypto'] : [])], { stdio: 'pipe' });
    return binary;
  } catch (error) {
    const fix = tls ? '; with TLS it needs OpenSSL\'s headers: apt-get install libssl-dev' : '';
    return { missing: `cc could not build ${source}${tls ? ' with TLS' : ''} (${(error as Error).message.split('\n')[0] ?? ''})${fix}` };
  }
}

const percentile = (sorted: number[], q: number): number => Math.round(quantile(sorted, q) * 100) / 100;

/** The index of the last trigger at or before `at` (triggers ascending), or -1. */
function lastAtOrBefore(triggers: number[], at: number): number {
  let low = 0;
  let high = triggers.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if ((triggers[middle] ?? Infinity) <= at) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** A turn's requests: [ms since the last reload was asked for (-1 before the first), latency ms, ok]. */
type Placed = Array<[number, number, boolean]>;

/**
 * The analysis of one mode's turns (exported for its unit test). `intervalMs`: the reload interval; requests started
 * within 40 ms of the next trigger's time are left out of the steady figures (the next reload may have begun).
 */
export function analyse(mode: Mode, turns: number, reloads: number, placed: Placed, intervalMs: number): TimelineRow {
  const latencies = (from: number, to: number): number[] => placed.filter(([since]) => since >= from && since < to).map(([, ms]) => ms).sort((a, b) => a - b);
  const all = placed.map(([, ms]) => ms).sort((a, b) => a - b);
  const steady = latencies(BINS * TIMELINE_BIN_MS, intervalMs - 40);
  const median = percentile(steady, 0.5);
  const excess = placed.filter(([since]) => since >= 0 && since < 200).reduce((sum, [, ms]) => sum + Math.max(0, ms - median), 0);
  return {
    mode,
    turns,
    reloads,
    requests: placed.length,
    failed: placed.filter(([, , ok]) => !ok).length,
    p95Ms: percentile(all, 0.95),
    bins: Array.from({ length: BINS }, (_, index) => percentile(latencies(index * TIMELINE_BIN_MS, (index + 1) * TIMELINE_BIN_MS), 0.95)),
    steadyP95: percentile(steady, 0.95),
    excessMsPerReload: reloads === 0 ? 0 : Math.round(excess / reloads),
  };
}

/** Reads the client's output and places each request beside the turn's triggers (µs, CLOCK_MONOTONIC). */
function place(file: string, triggers: number[]): Placed {
  const placed: Placed = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const [start = 0, latency = 0, ok = 0] = line.split(' ').map(Number);
    const index = lastAtOrBefore(triggers, start);
    placed.push([index < 0 ? -1 : (start - (triggers[index] ?? 0)) / 1000, latency / 1000, ok === 1]);
  }
  return placed;
}

const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * `modes` on the small config, over HTTP or, with `tls`, HTTPS (TLS 1.2, a full handshake per request, as
 * `ab -f TLS1.2`), taking turns (takingTurns): `rounds` turns of `seconds` each per mode, a reload every
 * `intervalMs` (reloadEvery: equal reload counts).
 */
export async function reloadTimeline(modes: readonly Mode[], rounds: number, seconds: number, intervalMs: number, tls = false): Promise<TimelineRow[] | { missing: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), BENCH_MARKER));
  try {
    const client = buildClient(dir, tls);
    if (typeof client !== 'string') return client;
    const placed: Placed[] = modes.map(() => []);
    const reloads = modes.map(() => 0);
    const turnP95s: number[][] = modes.map(() => []);
    const turn = async (subject: Subject, index: number): Promise<void> => {
      const file = path.join(dir, `turn-${index}.txt`);
      const load = spawn(client, [String(subject.port), String(CONCURRENCY), String(seconds), file, ...(tls ? ['tls'] : [])], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve, reject) => {
        load.on('error', reject);
        load.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`timeline client exited with ${code}`))));
      });
      const triggers: number[] = [];
      // Every mode, no reloads included: its "triggers" are the times a reload would have been asked for.
      await reloadEvery(subject, intervalMs, seconds, () => true, () => triggers.push(monotonicUs()));
      await exited;
      reloads[index] = (reloads[index] ?? 0) + triggers.length;
      const requests = place(file, triggers);
      turnP95s[index]?.push(percentile(requests.map(([, ms]) => ms).sort((a, b) => a - b), 0.95));
      for (const request of requests) placed[index]?.push(request);
    };
    const subjectFor = async (mode: Mode): Promise<Subject> => new Subject(mode, await freePort(), undefined, tls);
    return await takingTurns(modes, subjectFor, rounds, turn, (subjects) =>
      Promise.resolve(subjects.map((subject, index) => ({ ...analyse(subject.mode, rounds, reloads[index] ?? 0, placed[index] ?? [], intervalMs), turnP95s: turnP95s[index] ?? [] }))),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
