import { beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';
import type { ReloadResult } from '../../src/control/types.js';

/** The real haproxy, its invocations recorded ($HS_CALLS) and its starts slowed ($HS_START_DELAY) on request. */
const OBSERVED = path.resolve(import.meta.dirname, '../fixtures/haproxy-observed.sh');

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

describe('reloads', () => {
  it('drops no request across 20 reloads under 50 concurrent non-keep-alive clients, and every old generation exits', async () => {
    sandbox.writeConfig(httpConfig(port, 'v0'));
    await sandbox.run();
    const probe = new Probe(port, { concurrency: 50, maxRequests: 200_000, maxMs: 90_000 }).start();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(100);
    for (let round = 1; round <= 20; round++) {
      sandbox.writeConfig(httpConfig(port, `v${round}`));
      const result = await sandbox.cli(['reload', '--json']);
      expect(result.exitCode, result.stderr).toBe(0);
      const parsed = JSON.parse(result.stdout) as { ok: boolean; hitless: boolean };
      expect(parsed).toMatchObject({ ok: true, hitless: true });
    }
    await expect.poll(() => probe.report.bodies['v20'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect(report.ok).toBeGreaterThan(1000);

    await expect.poll(async () => (await sandbox.status()).generations.filter((g) => g.state !== 'exited').length, { timeout: 15_000 }).toBe(1);
    const status = await sandbox.status();
    const exited = status.generations.filter((g) => g.state === 'exited');
    expect(exited.every((g) => g.exit?.reason === 'drained')).toBe(true);
    expect(sandbox.haproxyPids()).toEqual([status.generations.find((g) => g.state === 'active')?.pid]);
  });

  it('coalesces 10 concurrent reload calls and 2 SIGHUPs made during a reload into one follow-up, each caller getting a reload that includes its request', async () => {
    sandbox.writeConfig(httpConfig(port, 'race'));
    // Every reload lasts ≥ 1.5 s (slow start): the calls of a round all arrive while the SIGHUP's reload runs.
    await sandbox.run(['--haproxy', OBSERVED], { HS_START_DELAY: '1.5' });
    const first = (await sandbox.status()).lastReload?.id ?? 0;
    let previous = first;
    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      sandbox.daemon?.kill('SIGHUP');
      const calls = Array.from({ length: 10 }, () => sandbox.cli(['reload', '--json']));
      sandbox.daemon?.kill('SIGHUP');
      const results = (await Promise.all(calls)).map((result) => {
        expect(result.exitCode, result.stderr).toBe(0);
        return JSON.parse(result.stdout) as ReloadResult;
      });
      const ids = new Set(results.map((result) => result.id));
      // A queue that did not coalesce would run one reload per call: 10 ids.
      expect(ids.size, `reload ids of one round: ${[...ids].join(', ')}`).toBeLessThanOrEqual(2);
      for (const id of ids) {
        const sharing = results.filter((result) => result.id === id);
        // Each caller's request is one of the triggers of the reload it got, and no reload predates the round.
        expect(id).toBeGreaterThan(previous);
        expect(sharing[0]?.triggers.filter((trigger) => trigger === 'cli').length).toBeGreaterThanOrEqual(sharing.length);
      }
      previous = Math.max(...ids);
    }
    const status = await sandbox.status();
    // At most: the SIGHUP's own reload and one follow-up per round (with a straggler, one more).
    expect((status.lastReload?.id ?? 0) - first).toBeLessThanOrEqual(rounds * 3);
    await expect.poll(() => sandbox.haproxyPids().length, { timeout: 15_000 }).toBe(1);
    const after = await sandbox.status();
    expect(after.generations.filter((g) => g.state === 'active')).toHaveLength(1);
    expect(after.generations.filter((g) => g.state === 'draining' || g.state === 'starting')).toHaveLength(0);
  });

  it('rejects an invalid config with haproxy’s own message (exit 10) from the new generation’s own start, runs no haproxy -c, keeps serving, and a later good reload works', async () => {
    const calls = path.join(sandbox.dir, 'haproxy-calls');
    sandbox.writeConfig(httpConfig(port, 'good'));
    await sandbox.run(['--haproxy', OBSERVED], { HS_CALLS: calls });
    const active = (await sandbox.status()).generations.find((g) => g.state === 'active');
    const probe = new Probe(port, { concurrency: 20, maxRequests: 100_000, maxMs: 60_000 }).start();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);

    writeFileSync(calls, '');
    sandbox.writeConfig(`${httpConfig(port, 'bad')}\n    this-is-not-a-keyword now\n`);
    const failed = await sandbox.cli(['reload', '--json']);
    expect(failed.exitCode).toBe(10);
    const result = JSON.parse(failed.stdout) as ReloadResult;
    expect(result.error).toMatchObject({ code: 'config-invalid', phase: 'check' });
    expect(result.error?.lines.join('\n')).toMatch(/\[ALERT\].*config : .*this-is-not-a-keyword/);
    // One haproxy ran for this reload: the new generation (-db), which rejected the file; no `haproxy -c`.
    const invocations = readFileSync(calls, 'utf8').trim().split('\n');
    expect(invocations).toHaveLength(1);
    expect(invocations[0]).toMatch(/^-db /);
    expect(invocations.some((line) => line.split(' ').includes('-c'))).toBe(false);
    const human = await sandbox.cli(['reload']);
    expect(human.exitCode).toBe(10);
    expect(human.stderr).toMatch(/\[ALERT\].*this-is-not-a-keyword/);
    expect(human.stderr).toContain('keeps serving');
    const okBefore = probe.report.ok;
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okBefore + 50);
    const afterFailure = await sandbox.status();
    expect(afterFailure.generations.find((g) => g.state === 'active')?.pid).toBe(active?.pid);
    expect(afterFailure.lastReload).toMatchObject({ ok: false });
    expect(probe.report.bodies['bad'] ?? 0).toBe(0);

    sandbox.writeConfig(httpConfig(port, 'fixed'));
    const fixed = await sandbox.cli(['reload']);
    expect(fixed.exitCode, fixed.stderr).toBe(0);
    await expect.poll(() => probe.report.bodies['fixed'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
  });

  it('writes state.json once per reload, however long the new generation takes to start; the ids it gives out stay reserved on disk', async () => {
    sandbox.writeConfig(httpConfig(port, 'one'));
    // Every start lasts ≥ 300 ms: longer than state.json's 50 ms quiet time, shorter than its 1 s longest lag.
    await sandbox.run(['--haproxy', OBSERVED], { HS_START_DELAY: '0.3' });
    const file = path.join(sandbox.runDir, 'state.json');
    type Persisted = { nextGenerationId: number; nextReloadId: number; generations: Array<{ id: number; state: string }> };
    const read = (): Persisted => JSON.parse(readFileSync(file, 'utf8')) as Persisted;
    // Settled after the start: the generation it spawned is named, and the start's checkpoint reserved ids ahead.
    await expect.poll(() => read().generations.some((generation) => generation.state === 'active'), { timeout: 5000 }).toBe(true);
    const before = read();
    expect(before.nextGenerationId).toBeGreaterThan(2);
    expect(before.nextReloadId).toBeGreaterThan(2);
    let writes = 0;
    const watcher = watch(sandbox.runDir, (_event, name) => {
      if (name === 'state.json') writes++;
    });
    try {
      for (const body of ['two', 'three']) {
        sandbox.writeConfig(httpConfig(port, body));
        const result = JSON.parse((await sandbox.cli(['reload', '--json'])).stdout) as ReloadResult;
        expect(result).toMatchObject({ ok: true, hitless: true });
        expect(result.generation?.id).toBeLessThan(before.nextGenerationId);
        expect(result.id).toBeLessThan(before.nextReloadId);
        // The reload's write comes once the old generation exited (no connection holds it) and 50 ms passed.
        await expect.poll(() => read().generations.find((generation) => generation.id === result.generation?.id)?.state, { timeout: 5000 }).toBe('active');
        await expect.poll(() => read().generations.filter((generation) => generation.state !== 'exited').length, { timeout: 5000 }).toBe(1);
      }
    } finally {
      watcher.close();
    }
    // No write while a start was under way, none for a checkpoint: one per reload.
    expect(writes).toBe(2);
    expect(read()).toMatchObject({ nextGenerationId: before.nextGenerationId, nextReloadId: before.nextReloadId });
  });

  it('reload-socket fails with a clear message when the new generation cannot take the sockets; reload falls back honestly', async () => {
    sandbox.writeConfig(httpConfig(port, 'x'));
    await sandbox.run();
    // Make the socket keeper's and the running generation's sockets unreachable: -x then fails inside haproxy.
    const { rmSync } = await import('node:fs');
    const active = (await sandbox.status()).generations.find((g) => g.state === 'active');
    await expect.poll(async () => (await sandbox.status()).keeper?.sockets.length, { timeout: 5000 }).toBe(1);
    rmSync(`${sandbox.runDir}/keeper.sock`);
    rmSync(`${sandbox.runDir}/gen/${active?.id}.sock`);
    const strict = await sandbox.cli(['reload-socket']);
    expect(strict.exitCode).toBe(13);
    expect(strict.stderr).toMatch(/old process socket|sockets/);
    expect((await sandbox.status()).generations.find((g) => g.state === 'active')?.pid).toBe(active?.pid);

    const lenient = await sandbox.cli(['reload', '--json']);
    expect(lenient.exitCode, lenient.stderr).toBe(0);
    const result = JSON.parse(lenient.stdout) as { hitless: boolean; warnings: string[] };
    expect(result.hitless).toBe(false);
    expect(result.warnings.join('\n')).toMatch(/Socket transfer from the socket keeper failed .*; took the listeners from generation/);
    expect(result.warnings.join('\n')).toMatch(/Socket transfer from generation \d+ failed .*; reloaded without it/);
  });

  it('restart terminates every generation and starts a fresh one', async () => {
    sandbox.writeConfig(httpConfig(port, 'r'));
    await sandbox.run();
    const before = (await sandbox.status()).generations.find((g) => g.state === 'active');
    const result = await sandbox.cli(['restart', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const status = await sandbox.status();
    const old = status.generations.find((g) => g.id === before?.id);
    expect(old?.exit?.reason).toBe('terminated');
    expect(status.generations.find((g) => g.state === 'active')?.pid).not.toBe(before?.pid);
    expect(sandbox.haproxyPids()).toHaveLength(1);
  });
});
