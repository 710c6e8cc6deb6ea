import { describe, expect, it } from 'vitest';
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
