import { describe, expect, it } from 'vitest';
import { parseAb } from '../../../bench/tools.js';

/** The parts of an ab report parseAb reads: 200 requests, its whole-ms percentile table. */
const REPORT = `Complete requests:      200
Failed requests:        0
Requests per second:    1234.56 [#/sec] (mean)
Time per request:       8.101 [ms] (mean)
Percentage of the requests served within a certain time (ms)
  50%      8
  95%     10
  99%     11
 100%     12 (longest request)
`;

describe("ab's report", () => {
  it("takes the percentiles from ab's CSV to 0.1 ms, where its report table rounds to whole ms", () => {
    const csv = `Percentage served,Time in ms\n${Array.from({ length: 100 }, (_, percent) => `${percent},${(5 + percent * 0.05).toFixed(3)}`).join('\n')}\n`;
    // 95 → 5 + 4.75 = 9.75 ms, 99 → 9.95 ms: the report table says 10 and 11.
    expect(parseAb(REPORT, 0, csv)).toMatchObject({ requests: 200, failed: 0, meanMs: 8.101, p95Ms: 9.8, p99Ms: 10 });
  });

  it('falls back to the whole-ms table without a CSV (ab aborted before it wrote one)', () => {
    expect(parseAb(REPORT, 0)).toMatchObject({ p95Ms: 10, p99Ms: 11 });
    expect(parseAb(REPORT, 0, 'Percentage served,Time in ms\n')).toMatchObject({ p95Ms: 10, p99Ms: 11 });
  });
});
