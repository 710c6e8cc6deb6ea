import http from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReloadResult } from '../../src/control/types.js';
import { httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { isAlive } from '../helpers/os-probes.js';
import { Probe } from '../helpers/probe.js';

const RUN_FAILS = path.resolve(import.meta.dirname, '../fixtures/haproxy-run-fails.sh');

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** One request on a new connection: its status, or 0 when it failed or took longer than `timeoutMs`. */
function get(timeoutMs = 500): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
    request.on('timeout', () => request.destroy());
  });
}

/** `count` new connections one after the other: how many succeeded. */
async function successes(count: number): Promise<number> {
  let ok = 0;
  for (let index = 0; index < count; index++) if ((await get()) === 200) ok++;
  return ok;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a hung active generation', () => {
  it('is found by the watchdog, replaced by a generation that takes its listeners from the socket keeper, and terminated, with no reload asked for', async () => {
    sandbox.writeConfig(httpConfig(port, 'watched'));
    await sandbox.run(['--watchdog-interval', '500ms', '--watchdog-misses', '3', '--kill-grace', '2s']);
    const hung = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    const stoppedAt = performance.now();
    process.kill(hung?.pid ?? -1, 'SIGSTOP');
    try {
      // Interval × misses (1.5 s) plus the replacement's start.
      await expect.poll(async () => (await sandbox.status()).generations.find((generation) => generation.id === hung?.id)?.exit?.reason, { timeout: 6000, interval: 50 }).toBe('hung');
      const replacedMs = performance.now() - stoppedAt;
      expect(replacedMs).toBeLessThan(4000);
      expect(isAlive(hung?.pid ?? -1)).toBe(false);
      expect(await successes(100)).toBe(100);
      const status = await sandbox.status();
      const record = status.generations.find((generation) => generation.id === hung?.id);
      expect(record?.hung?.reason).toContain('process stopped');
      expect(status.generations.filter((generation) => generation.state === 'active')).toHaveLength(1);
      expect(status.lastReload).toMatchObject({ ok: true, hitless: true, triggers: ['watchdog'] });
      expect(status.lastReload?.warnings.join('\n')).toContain('the new one takes the listeners from the socket keeper');
    } finally {
      if (isAlive(hung?.pid ?? -1)) process.kill(hung?.pid ?? -1, 'SIGCONT');
    }
  });

  it('found by a reload (watchdog off): the new generation takes the listeners from the keeper, the stopped one is terminated as hung, and every new request succeeds at once', async () => {
    sandbox.writeConfig(httpConfig(port, 'stopped'));
    await sandbox.run(['--watchdog-interval', '0', '--kill-grace', '2s']);
    const hung = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    process.kill(hung?.pid ?? -1, 'SIGSTOP');
    try {
      const reload = await sandbox.cli(['reload', '--json']);
      expect(reload.exitCode, reload.stderr).toBe(0);
      const result = JSON.parse(reload.stdout) as ReloadResult;
      expect(result.hitless).toBe(true);
      expect(result.retired).toEqual([{ id: hung?.id, pid: hung?.pid }]);
      expect(await successes(40)).toBe(40);
      await expect.poll(() => isAlive(hung?.pid ?? -1), { timeout: 5000 }).toBe(false);
      expect(isAlive(hung?.pid ?? -1)).toBe(false);
      expect((await sandbox.status()).generations.find((generation) => generation.id === hung?.id)?.exit?.reason).toBe('hung');
    } finally {
      if (isAlive(hung?.pid ?? -1)) process.kill(hung?.pid ?? -1, 'SIGCONT');
    }
  });
});

describe('respawn', () => {
  it('serves again within 1 s after the 8th kill -9 in a row of a generation that served 1–2 s each time', async () => {
    sandbox.writeConfig(httpConfig(port, 'oom'));
    await sandbox.run();
    let recoveredMs = 0;
    for (let kill = 1; kill <= 8; kill++) {
      await expect.poll(() => get(), { timeout: 5000, interval: 20 }).toBe(200);
      await sleep(1000 + Math.random() * 1000);
      const active = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
      const killedAt = performance.now();
      process.kill(active?.pid ?? -1, 'SIGKILL');
      await expect.poll(() => get(200), { timeout: 5000, interval: 10 }).toBe(200);
      recoveredMs = performance.now() - killedAt;
    }
    expect(recoveredMs).toBeLessThan(1000);
    const status = await sandbox.status();
    expect(status.crashLoop).toMatchObject({ consecutiveCrashes: 8, looping: true });
  });

  it('backs off a generation that exits at once, shows the loop, and recovers at once on a reload once the cause is fixed', async () => {
    const failFlag = path.join(sandbox.dir, 'fail-run');
    sandbox.writeConfig(httpConfig(port, 'backoff'));
    await sandbox.run(['--haproxy', RUN_FAILS, '--respawn-backoff', '200ms', '--respawn-backoff-max', '2s'], { HS_FAIL_RUN: failFlag });
    const probe = new Probe(port, { concurrency: 5, maxRequests: 100_000, maxMs: 60_000 }).start();
    writeFileSync(failFlag, '');
    const active = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    process.kill(active?.pid ?? -1, 'SIGKILL');
    await expect.poll(async () => (await sandbox.status()).crashLoop.looping, { timeout: 10_000, interval: 100 }).toBe(true);
    const looping = await sandbox.status();
    expect(looping.crashLoop.lastError).toContain('fake start failure');
    expect(looping.generations.filter((generation) => generation.state === 'active')).toHaveLength(0);
    // Attempts are spaced out (backoff), not a tight loop: a handful in 3 s.
    const attemptsBefore = looping.generations.filter((generation) => generation.exit?.reason === 'failed-start').length;
    await sleep(3000);
    const attempts = (await sandbox.status()).generations.filter((generation) => generation.exit?.reason === 'failed-start').length - attemptsBefore;
    expect(attempts).toBeGreaterThan(0);
    expect(attempts).toBeLessThan(8);

    rmSync(failFlag);
    const fixedAt = performance.now();
    const reload = await sandbox.cli(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    await expect.poll(() => get(), { timeout: 2000, interval: 10 }).toBe(200);
    expect(performance.now() - fixedAt).toBeLessThan(2000);
    await probe.stop();
  });
});
