import { describe, expect, it } from 'vitest';
import { targets, type BenchResult } from '../../../bench/report.js';
import { analyse } from '../../../bench/timeline.js';

/** `count` requests started `since` ms after a reload was asked for, each taking `ms`. */
const requests = (count: number, since: number, ms: number, ok = true): Array<[number, number, boolean]> => Array.from({ length: count }, () => [since, ms, ok]);

describe('analyse (the reload timeline)', () => {
  // Two reloads: 100 requests in each 20 ms window of the first 100 ms, 1 000 steady ones, 50 before the first reload.
  const placed = [
    ...requests(100, 5, 12),
    ...requests(100, 25, 9),
    ...requests(100, 45, 7, false),
    ...requests(100, 65, 5),
    ...requests(100, 85, 5),
    ...requests(1000, 250, 5),
    ...requests(50, 470, 40), // within 40 ms of the next reload: not steady
    ...requests(50, -1, 30), // before the first reload: in the whole, in no window
  ];
  const row = analyse('supervisor-hup', 2, 2, placed, 500);

  it('gives the p95 of each 20 ms window after a reload, and of the steady part', () => {
    expect(row.bins).toEqual([12, 9, 7, 5, 5]);
    expect(row.steadyP95).toBe(5);
  });

  it('sums the latency above the steady median over the first 200 ms, per reload', () => {
    // 100 × (12 − 5) + 100 × (9 − 5) + 100 × (7 − 5), over 2 reloads
    expect(row.excessMsPerReload).toBe(650);
  });

  it('counts every request, failed ones included, in the whole', () => {
    expect(row.requests).toBe(1600);
    expect(row.failed).toBe(100);
    expect(row.p95Ms).toBe(30); // the 5 % slowest: the 50 at 40 ms and 30 of the 50 at 30 ms
  });
});

describe('the timeline target: p95 against master-worker, request by request', () => {
  const machine = { cpus: 2, memoryGiB: 24, node: 'v20.20.2', haproxy: 'haproxy 2.6.12', kernel: '6.1' };
  const row = (mode: 'master-worker' | 'supervisor-hup', p95Ms: number, turnP95s?: number[]) => ({
    mode,
    turns: turnP95s?.length ?? 10,
    reloads: 100,
    requests: 1_000_000,
    failed: 0,
    p95Ms,
    bins: [14, 13, 12, 12, 12],
    steadyP95: 9,
    excessMsPerReload: 7000,
    ...(turnP95s === undefined ? {} : { turnP95s }),
  });
  /** The request-by-request target rows of a result with these timeline passes (the TLS one optional). */
  const byRequest = (rows: ReturnType<typeof row>[], tlsRows?: ReturnType<typeof row>[]) => {
    const result: BenchResult = {
      date: '2026-12-02',
      machine,
      command: 'npm run bench -- --only timeline',
      load: [],
      racing: [],
      crash: [],
      latency: [],
      footprint: [],
      timeline: { seconds: 5.5, intervalMs: 500, rows },
      ...(tlsRows === undefined ? {} : { timelineTls: { seconds: 5.5, intervalMs: 500, rows: tlsRows } }),
    };
    return targets(result).filter((target) => target.target.includes('request by request'));
  };
  const timelineTarget = (rows: ReturnType<typeof row>[]) => byRequest(rows)[0];

  it('judges the p95 over every request, and gives the per-turn difference over the same rounds with its interval', () => {
    // Differences per turn (supervisor − master-worker): −1, −0.5, +0.5, −1: mean −0.5, variance 0.5, t with 3 degrees of freedom.
    const met = timelineTarget([row('master-worker', 10.5, [10, 11, 9.5, 12]), row('supervisor-hup', 10.25, [9, 10.5, 10, 11])]);
    expect(met).toMatchObject({ met: true, measured: `10.25 vs 10.5 ms (100 and 100 reloads); per turn −0.50 ± ${(3.182 * Math.sqrt(0.5 / 4)).toFixed(2)} ms (95 % CI over 4 paired turns)` });
    expect(timelineTarget([row('master-worker', 10.5, [10, 11]), row('supervisor-hup', 10.6, [10.5, 11])])).toMatchObject({ met: false });
  });

  it('judges the TLS pass on its own, beside the HTTP one', () => {
    const rows = byRequest(
      [row('master-worker', 10.5, [10, 11]), row('supervisor-hup', 10.25, [9.5, 11])],
      [row('master-worker', 120, [110, 130]), row('supervisor-hup', 131, [128, 134])],
    );
    expect(rows.map(({ target, met }) => [target.match(/\((HTTP|TLS), request by request\)/)?.[1], met])).toEqual([
      ['HTTP', true],
      ['TLS', false],
    ]);
    expect(rows[1]?.measured).toContain('131 vs 120 ms (100 and 100 reloads); per turn +11.00 ± ');
  });

  it('reads results recorded before each turn was kept, and says nothing without both modes', () => {
    expect(timelineTarget([row('master-worker', 10.5), row('supervisor-hup', 10.25)])).toMatchObject({ met: true, measured: '10.25 vs 10.5 ms (100 and 100 reloads)' });
    expect(timelineTarget([row('supervisor-hup', 10.25)])).toBeUndefined();
  });
});
