import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { haproxyPids } from '../helpers/haproxy-processes.js';

const BENCH = path.resolve(import.meta.dirname, '../../build/bench/main.js');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('bench harness', () => {
  it('runs on a tiny budget, writes json/md/svg results of the documented shape, and leaves nothing running', async () => {
    expect(existsSync(BENCH), 'build/bench is missing: npm run build:bench').toBe(true);
    const out = mkdtempSync(path.join(os.tmpdir(), 'hs-test-bench-'));
    dirs.push(out);
    const run = await execa('node', [BENCH, '--smoke', '--out', out], { reject: false, timeout: 120_000 });
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const files = readdirSync(out).sort();
    expect(files.map((file) => path.extname(file))).toEqual(['.json', '.md', '.svg']);

    const result = JSON.parse(readFileSync(path.join(out, files[0] ?? ''), 'utf8')) as {
      machine: { cpus: number; haproxy: string };
      load: Array<{ tool: string; mode: string; requests: number; failed: number; reloads: number; orphans: number; meanMs: number; p95Ms: number }>;
      racing: Array<{ mode: string; alive: number; orphans: number }>;
      latency: Array<{ what: string; ms: { n: number; median: number } }>;
      footprint: Array<{ when: string; rssMiB: number; fds: number }>;
    };
    expect(result.machine.haproxy).toMatch(/^haproxy 2\./);
    expect(result.load.map((row) => `${row.tool}:${row.mode}`)).toEqual(['ab:none', 'ab:init-x', 'ab:supervisor-hup', 'probe:none', 'probe:init-x', 'probe:supervisor-hup']);
    for (const row of result.load) {
      expect(row.requests).toBeGreaterThan(0);
      expect([typeof row.failed, typeof row.orphans, typeof row.p95Ms]).toEqual(['number', 'number', 'number']);
    }
    // What the product promises, even on a tiny budget: no failed request, no orphan.
    for (const row of result.load.filter((candidate) => candidate.mode === 'supervisor-hup')) expect(row).toMatchObject({ failed: 0, orphans: 0 });
    expect(result.racing.find((row) => row.mode === 'supervisor-cli')).toMatchObject({ alive: 1, orphans: 0 });
    expect(result.latency.map((row) => row.ms.n).every((n) => n >= 3)).toBe(true);
    expect(result.footprint.map((row) => row.when)).toEqual(['after start', 'after 5 reloads', 'after they drained']);
    expect(result.footprint.every((row) => row.rssMiB > 0 && row.fds > 0)).toBe(true);
    expect(readFileSync(path.join(out, files[2] ?? ''), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
    expect(readFileSync(path.join(out, files[1] ?? ''), 'utf8')).toContain('| mode | requests | failed |');
    expect(haproxyPids('hs-bench-')).toEqual([]);
  });
});
