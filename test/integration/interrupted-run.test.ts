import { rmSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { processArgv } from '../../src/system/processes.js';
import { childRun, endRun, runPids } from '../helpers/run-processes.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIG = 'test/fixtures/interrupted-run/vitest.config.ts';
const VITEST = path.join(ROOT, 'node_modules/vitest/vitest.mjs');

describe('an interrupted test run', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    const how = signal === 'SIGINT' ? 'Ctrl-C: to the whole process group' : 'to vitest alone';
    it(`${signal} (${how}) ends the supervisors its tests started, detached or not, and their haproxy; exit ${code}`, async () => {
      const { id, env } = childRun('interrupted-tests');
      const run = execa('node', [VITEST, 'run', '--config', CONFIG], { cwd: ROOT, env, reject: false, detached: true, timeout: 110_000, all: true, buffer: { all: true } });
      let output = '';
      try {
        run.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        await expect.poll(() => output.includes('both supervisors serve'), { timeout: 60_000, interval: 50 }).toBe(true);
        const running = (): string[][] => runPids(id).map(processArgv);
        // Two supervisors (one detached: re-parented away from vitest) and their two haproxy generations.
        expect(running().filter((args) => args[0] === 'haproxy-supervisor'), output).toHaveLength(2);
        expect(running().filter((args) => args[0] === 'haproxy' && args.includes('-db'))).toHaveLength(2);
        process.kill(signal === 'SIGINT' ? -(run.pid ?? 0) : (run.pid ?? 0), signal);
        const exit = await run;
        expect(exit.exitCode, String(exit.all)).toBe(code);
        expect(running(), String(exit.all)).toEqual([]);
      } finally {
        endRun(id); // only if the run failed to
        // The interrupted tests' temp dirs (their afterEach never ran).
        for (const dir of /both supervisors serve in (\S+) (\S+)/.exec(output)?.slice(1) ?? []) rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
