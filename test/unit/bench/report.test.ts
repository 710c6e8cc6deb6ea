import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freeStem, targets, toMarkdown, type BenchResult } from '../../../bench/report.js';
import { pairedDifference, tMultiplier } from '../../../bench/stats.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();

const ms = (median: number) => ({ n: 30, min: median, median, p95: median, max: median });

function result(overrides: Partial<BenchResult> = {}): BenchResult {
  return {
    date: '2026-11-30',
    machine: { cpus: 2, memoryGiB: 24, node: 'v20.20.2', haproxy: 'haproxy 2.6.12', kernel: '6.1' },
    command: 'npm run bench -- --quick',
    load: [],
    racing: [],
    crash: [],
    latency: [
      { config: 'small (1 frontend)', what: 'raw', ms: ms(35), key: 'raw' },
      { config: 'small (1 frontend)', what: 'node', ms: ms(50), key: 'node' },
      { config: 'small (1 frontend)', what: 'daemon', ms: ms(38), key: 'daemon' },
      { config: 'small (1 frontend)', what: 'cli', ms: ms(115), key: 'cli' },
    ],
    footprint: [
      { when: 'after start', phase: 'start', reloads: 0, rssMiB: 56, fds: 23, liveGenerations: 1 },
      { when: 'after 100 reloads', phase: 'reloads', reloads: 100, rssMiB: 60, fds: 27, liveGenerations: 2 },
      { when: 'after 1000 reloads', phase: 'reloads', reloads: 1000, rssMiB: 63, fds: 28, liveGenerations: 2 },
      { when: 'after they drained', phase: 'drained', reloads: 1000, rssMiB: 63, fds: 23, liveGenerations: 1 },
    ],
    ...overrides,
  };
}

describe('bench targets', () => {
  it('holds a whole quick run to 3 minutes, and not a part of one (--only)', () => {
    const quick = (command: string, durationS: number) => targets(result({ command, durationS })).find((row) => row.target.includes('≤ 3 minutes'));
    expect(quick('npm run bench -- --quick', 181)).toMatchObject({ measured: '181 s', met: false });
    expect(quick('npm run bench -- --quick', 158)).toMatchObject({ met: true });
    expect(quick('npm run bench -- --quick --only cpu', 48)).toBeUndefined();
  });

  it('judges each target from the same run\'s anchors', () => {
    const rows = targets(result());
    expect(rows.map((row) => [row.target.split(' ')[0], row.met])).toEqual([
      ['daemon-side', true], // 38 / 35 = 1.09
      ['CLI', true], // 115 ≤ 50 + 30 + 38
      ['RSS', false], // 63 > 60
      ['RSS', true], // +5 %
      ['no', true], // 23 → 23
    ]);
    expect(rows[0]?.measured).toBe('38 vs 35 ms (1.09×)');
    expect(rows[2]?.measured).toBe('63 MiB (56 after start)');
  });

  it('misses what is over the bound, and renders missed in bold', () => {
    const slow = result({ latency: [{ config: 'small (1 frontend)', what: 'raw', ms: ms(30), key: 'raw' }, { config: 'small (1 frontend)', what: 'daemon', ms: ms(40), key: 'daemon' }] });
    expect(targets(slow)[0]).toMatchObject({ met: false, measured: '40 vs 30 ms (1.33×)' });
    expect(toMarkdown(slow)).toContain('| **missed** |');
  });

  it('lists the supervisor over TLS beside seed 001, failing rows as missed', () => {
    const row = { tool: 'ab', concurrency: 100, intervalMs: 200, keepAlive: false, requests: 10_000, seconds: 30, tls: true, failed: 2, failures: {}, meanMs: 50, p95Ms: 90, aborted: false, triggers: 30, reloads: 30, orphans: 0 } as const;
    const rows = targets(result({ load: [{ ...row, mode: 'supervisor-hup' }, { ...row, mode: 'legacy' }] }));
    const tls = rows.filter((goal) => goal.target.includes('TLS'));
    expect(tls).toHaveLength(1);
    expect(tls[0]).toMatchObject({ met: false });
    expect(tls[0]?.measured).toContain('2 failed of 10000');
  });
});

describe('where results go', () => {
  it('never overwrites an earlier run: the next free -2, -3… of the day', () => {
    const base = path.join(tempDir(), '2026-12-01-quick');
    expect(freeStem(base)).toBe(base);
    writeFileSync(`${base}.md`, 'first run');
    expect(freeStem(base)).toBe(`${base}-2`);
    writeFileSync(`${base}-2.json`, '{}');
    expect(freeStem(base)).toBe(`${base}-3`);
  });
});

describe('CPU per reload against the init script', () => {
  const cpuRow = (mode: 'init-x' | 'supervisor-hup', cpuMs: number[] | undefined) => ({
    mode,
    config: 'small (1 frontend)',
    reloads: cpuMs?.length ?? 4,
    cpuMsPerReload: cpuMs === undefined ? 50 : Math.round((cpuMs.reduce((sum, value) => sum + value, 0) / cpuMs.length) * 10) / 10,
    ...(cpuMs === undefined ? {} : { cpuMs }),
    wallMs: ms(50),
  });

  it('gives the paired difference of the same rounds with its 95 % confidence interval', () => {
    const { mean, halfWidth, n } = pairedDifference([50, 40, 60, 50], [52, 41, 61, 54]);
    expect([mean, n]).toEqual([2, 4]);
    expect(halfWidth).toBeCloseTo(3.182 * Math.sqrt(2 / 4), 10); // differences 2, 1, 1, 4: variance 2; t with 3 degrees of freedom
    const rows = targets(result({ cpu: [cpuRow('init-x', [50, 40, 60, 50]), cpuRow('supervisor-hup', [52, 41, 61, 54])] }));
    const cpu = rows.find((row) => row.target.startsWith('CPU per reload'));
    expect(cpu).toMatchObject({ met: false, measured: '52 vs 50 ms (difference +2.0 ± 2.3 ms, 95 % CI over 4 pairs)' });
    const table = toMarkdown(result({ cpu: [{ ...cpuRow('init-x', [50, 40, 60, 50]), warmup: 2 }, { ...cpuRow('supervisor-hup', [49, 40, 58, 49]), warmup: 40 }] }));
    expect(table).toContain('| small (1 frontend) | init script: -D -x -sf $(cat pidfile) | 2, 4 | 50 |  | 50 | 50 |');
    expect(table).toContain('| small (1 frontend) | haproxy-supervisor SIGHUP | 40, 4 | 49 | −1.0 ± 1.3 | 50 | 50 |');
  });

  it("widens the interval by Student's t for few pairs, down to 1.96 standard errors only past the table", () => {
    expect([1, 3, 4, 9, 29, 30].map(tMultiplier)).toEqual([12.706, 3.182, 2.776, 2.262, 2.045, 2.042]);
    expect([31, 39, 40, 59, 60, 119, 120, 5000].map(tMultiplier)).toEqual([2.042, 2.042, 2.021, 2.021, 2.0, 2.0, 1.98, 1.98]);
    expect(tMultiplier(0)).toBeNaN();
    expect(pairedDifference([1], [2]).halfWidth).toBeNaN();
  });

  it('reads results recorded before each reload was kept', () => {
    const cpu = targets(result({ cpu: [cpuRow('init-x', undefined), cpuRow('supervisor-hup', undefined)] })).find((row) => row.target.startsWith('CPU per reload'));
    expect(cpu).toMatchObject({ met: true, measured: '50 vs 50 ms' });
    // Before the warm-up was kept per row: one reload not measured.
    expect(toMarkdown(result({ cpu: [cpuRow('init-x', undefined), cpuRow('supervisor-hup', undefined)] }))).toContain('| haproxy-supervisor SIGHUP | 1, 4 | 50 |');
  });
});
