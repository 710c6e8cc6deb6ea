import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { processArgv } from '../../src/system/processes.js';
import { childRun, endRun, runPids } from '../helpers/run-processes.js';

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
    const { id, env } = childRun('bench-smoke');
    const run = await execa('node', [BENCH, '--smoke', '--out', out], { reject: false, timeout: 120_000, env });
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const files = readdirSync(out).sort();
    expect(files.map((file) => path.extname(file))).toEqual(['.json', '.md', '.svg']);

    const result = JSON.parse(readFileSync(path.join(out, files[0] ?? ''), 'utf8')) as {
      machine: { cpus: number; haproxy: string };
      load: Array<{ tool: string; mode: string; requests: number; failed: number; reloads: number; orphans: number; meanMs: number; p95Ms: number }>;
      racing: Array<{ mode: string; alive: number; orphans: number }>;
      latency: Array<{ what: string; ms: { n: number; median: number } }>;
      footprint: Array<{ when: string; rssMiB: number; fds: number }>;
      timeline?: { rows: Array<{ mode: string; requests: number; failed: number; turnP95s: number[] }> };
      timelineTls?: { rows: Array<{ mode: string; requests: number; failed: number; turnP95s: number[] }> };
    };
    expect(result.machine.haproxy).toMatch(/^haproxy \d+\.\d+\./);
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
    // The request-by-request client, built at run time: with cc, and over TLS with OpenSSL's headers; else skipped, saying why.
    const [compiler, openssl] = [(await execa('sh', ['-c', 'command -v cc'], { reject: false })).exitCode === 0, existsSync('/usr/include/openssl/ssl.h')];
    for (const [timeline, buildable, skipped] of [
      [result.timeline, compiler, 'reload timeline skipped: cc could not build'],
      [result.timelineTls, compiler && openssl, 'reload timeline over TLS skipped: cc could not build'],
    ] as const) {
      if (!buildable) {
        expect(String(run.stderr)).toContain(skipped);
        continue;
      }
      expect(timeline?.rows.map((row) => row.mode)).toEqual(['none', 'init-x', 'master-worker', 'supervisor-hup']);
      for (const row of timeline?.rows ?? []) expect(row.requests, row.mode).toBeGreaterThan(0);
      expect(timeline?.rows.find((row) => row.mode === 'supervisor-hup')).toMatchObject({ failed: 0, turnP95s: [expect.any(Number)] });
    }
    expect(readFileSync(path.join(out, files[2] ?? ''), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
    expect(readFileSync(path.join(out, files[1] ?? ''), 'utf8')).toContain('| mode | requests | failed |');
    expect(runPids(id)).toEqual([]);
  });

  /**
   * Interrupts the smoke run once a section of `mode` has its processes up (`ready`), with `signal` sent to the
   * whole process group (Ctrl-C) or to the bench alone (a timeout's SIGTERM to npm); returns its exit code, what
   * was still running afterwards and the partial result.
   */
  const interrupt = async (mode: string, ready: (args: string[]) => boolean, signal: NodeJS.Signals, group: boolean) => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'hs-test-bench-'));
    dirs.push(out);
    const { id, env } = childRun('bench-interrupted');
    const bench = execa('node', [BENCH, '--smoke', '--out', out], { reject: false, timeout: 120_000, env, detached: true, buffer: { stderr: true } });
    try {
      let stderr = '';
      bench.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      await expect.poll(() => stderr.includes(`: ${mode}\n`), { timeout: 60_000, interval: 20 }).toBe(true);
      await expect.poll(() => runPids(id).some((pid) => ready(processArgv(pid))), { timeout: 10_000, interval: 20 }).toBe(true);
      const running = runPids(id).map((pid) => processArgv(pid).join(' '));
      process.kill(group ? -(bench.pid ?? 0) : (bench.pid ?? 0), signal);
      const exit = await bench;
      const left = runPids(id);
      const json = readdirSync(out).find((file) => file.endsWith('.json'));
      const result = json === undefined ? undefined : (JSON.parse(readFileSync(path.join(out, json), 'utf8')) as { partial?: { reason: string; section: string } });
      return { exitCode: exit.exitCode, left, running, result, stderr: String(exit.stderr) };
    } finally {
      endRun(id); // only if the bench failed to
    }
  };

  it('Ctrl-C in the middle of a supervisor section ends the detached supervisor, its haproxy and the load, writes the partial result and exits 130', async () => {
    // A generation the supervisor spawned (`-db`) serves: the detached supervisor (its process title) runs too.
    const outcome = await interrupt('supervisor-hup', (args) => args[0] === 'haproxy' && args.includes('-db'), 'SIGINT', true);
    expect(outcome.running.some((args) => args.startsWith('haproxy-supervisor')), outcome.running.join('\n')).toBe(true);
    expect(outcome.left, outcome.stderr).toEqual([]);
    expect(outcome.exitCode).toBe(130);
    expect(outcome.result?.partial).toMatchObject({ reason: 'SIGINT', section: expect.stringContaining('supervisor-hup') as string });
  });

  it('SIGTERM to the bench alone in the middle of an init-script section ends its haproxy -D daemons too, and exits 143', async () => {
    const outcome = await interrupt('init-x', (args) => args[0] === 'haproxy' && args.includes('-D'), 'SIGTERM', false);
    expect(outcome.left, outcome.stderr).toEqual([]);
    expect(outcome.exitCode).toBe(143);
    expect(outcome.result?.partial).toMatchObject({ reason: 'SIGTERM', section: expect.stringContaining('init-x') as string });
  });
});
