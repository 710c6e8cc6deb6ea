import { readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { frontendConfig, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { keeperPids } from '../helpers/haproxy-processes.js';
import { isRunning } from '../helpers/os-probes.js';
import { Probe } from '../helpers/probe.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

const active = async (): Promise<{ id: number; pid: number } | undefined> => (await sandbox.status()).generations.find((generation) => generation.state === 'active');

/** How a TCP connection attempt ends: `accepted`, `refused`, `stalled` (still pending after `timeoutMs`) or another error code. */
function attempt(target: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(target, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('stalled');
    }, timeoutMs);
    socket.on('connect', () => {
      // Accepted by the kernel: an answer to a request proves someone accepts it.
      socket.write('GET / HTTP/1.0\r\n\r\n');
    });
    socket.on('data', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('accepted');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' ? 'refused' : (error.code ?? error.message));
    });
  });
}

/** The keeper's socket descriptors: `fd → socket:[inode]`, sorted. */
function socketDescriptors(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`)
    .map((fd) => {
      try {
        return `${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
      } catch {
        return '';
      }
    })
    .filter((entry) => entry.includes('socket:'))
    .sort();
}

/** One GET that waits up to 15 s (a connection queued while nothing accepts is answered later). */
function get(target: number): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port: target, path: '/', agent: false, timeout: 15_000 }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('the socket keeper', () => {
  it('holds the listeners through 8 kill -9 of the active generation in a row under load (c=50, new connection per request): 0 refused, only requests in flight fail', async () => {
    sandbox.writeConfig(httpConfig(port, 'kept'));
    await sandbox.run();
    await expect.poll(async () => (await sandbox.status()).keeper?.sockets, { timeout: 5000 }).toEqual([`127.0.0.1:${port} tcp`]);
    const probe = new Probe(port, { concurrency: 50, maxRequests: 2_000_000, maxMs: 90_000 }).start();
    try {
      for (let kill = 1; kill <= 8; kill++) {
        const okBefore = probe.report.ok;
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okBefore + 200);
        const victim = await active();
        process.kill(victim?.pid ?? -1, 'SIGKILL');
        await expect.poll(async () => (await active())?.pid, { timeout: 10_000 }).not.toBe(victim?.pid);
        await expect.poll(async () => (await active())?.pid, { timeout: 10_000 }).toBeDefined();
      }
      const okAfter = probe.report.ok;
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okAfter + 200);
    } finally {
      await probe.stop();
    }
    const report = probe.report;
    expect(report.failures['ECONNREFUSED'] ?? 0, JSON.stringify(report.failures)).toBe(0);
    // At most the 50 requests in flight on each killed process.
    expect(report.failed, JSON.stringify(report.failures)).toBeLessThanOrEqual(8 * 50);
    const status = await sandbox.status();
    expect(status.lastReload).toMatchObject({ ok: true, mode: 'respawn', hitless: true });
  });

  it('a SIGSTOPped active generation: the watchdog’s replacement takes the listeners from the keeper, and once it serves no new request fails', async () => {
    sandbox.writeConfig(httpConfig(port, 'watched'));
    await sandbox.run(['--watchdog-interval', '300ms', '--watchdog-misses', '2', '--kill-grace', '1s']);
    const stopped = await active();
    process.kill(stopped?.pid ?? -1, 'SIGSTOP');
    try {
      await expect.poll(async () => (await active())?.pid, { timeout: 15_000 }).not.toBe(stopped?.pid);
      const replaced = await sandbox.status();
      expect(replaced.lastReload).toMatchObject({ ok: true, hitless: true });
      expect(replaced.lastReload?.warnings.join('\n')).toContain('takes the listeners from the socket keeper');
      const after = new Probe(port, { concurrency: 20, maxRequests: 2000, maxMs: 20_000 }).start();
      await after.done();
      expect(after.report.failed, JSON.stringify(after.report.failures)).toBe(0);
      expect(after.report.ok).toBe(2000);
      await expect.poll(() => isRunning(stopped?.pid ?? -1), { timeout: 10_000 }).toBe(false);
    } finally {
      if (isRunning(stopped?.pid ?? -1)) process.kill(stopped?.pid ?? -1, 'SIGCONT');
    }
  });

  it('a reload that drops a bind line closes that socket everywhere: connections to it are refused at once, none stalls', async () => {
    const second = port + 1 === 65536 ? port - 1 : port + 1;
    const both = frontendConfig(port, [`bind 127.0.0.1:${second}`, 'http-request return status 200 content-type text/plain string "both"']);
    sandbox.writeConfig(both);
    await sandbox.run();
    await expect.poll(async () => (await sandbox.status()).keeper?.sockets.sort(), { timeout: 5000 }).toEqual([`127.0.0.1:${port} tcp`, `127.0.0.1:${second} tcp`].sort());
    expect(await attempt(second)).toBe('accepted');
    sandbox.writeConfig(httpConfig(port, 'one'));
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect((await sandbox.status()).keeper?.sockets).toEqual([`127.0.0.1:${port} tcp`]);
    await expect.poll(() => attempt(second, 500), { timeout: 2000, interval: 20 }).toBe('refused');
    const attempts = await Promise.all(Array.from({ length: 20 }, () => attempt(second, 1000)));
    expect(attempts.filter((outcome) => outcome !== 'refused')).toEqual([]);
    expect(await attempt(port)).toBe('accepted');
  });

  it('a reload of an unchanged configuration leaves the keeper as it is (no round of fd passing); a new bind line is taken at once', async () => {
    sandbox.writeConfig(httpConfig(port, 'same'));
    await sandbox.run();
    await expect.poll(async () => (await sandbox.status()).keeper?.sockets, { timeout: 5000 }).toEqual([`127.0.0.1:${port} tcp`]);
    const keeper = (await sandbox.status()).keeper?.pid ?? 0;
    // A take receives every socket again (new descriptors) before it closes the ones it held: the numbers change.
    const held = socketDescriptors(keeper);
    expect(held.length).toBeGreaterThan(0);
    for (let reload = 0; reload < 3; reload++) expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect(socketDescriptors(keeper)).toEqual(held);
    const second = port + 1 === 65536 ? port - 1 : port + 1;
    sandbox.writeConfig(frontendConfig(port, [`bind 127.0.0.1:${second}`, 'http-request return status 200 content-type text/plain string "both"']));
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect((await sandbox.status()).keeper?.sockets.sort()).toEqual([`127.0.0.1:${port} tcp`, `127.0.0.1:${second} tcp`].sort());
    expect(socketDescriptors(keeper)).not.toEqual(held);
    // The sockets it holds now are the ones the new generation serves: they outlive it.
    for (const pid of sandbox.haproxyPids()) process.kill(pid, 'SIGKILL');
    expect(await Promise.all([get(port), get(second)])).toEqual([200, 200]);
  });

  it('survives kill -9 of the supervisor and then of haproxy: connections queue in its sockets, and a new supervisor adopts it and answers them all', async () => {
    sandbox.writeConfig(httpConfig(port, 'queued'));
    await sandbox.run();
    const keeper = (await sandbox.status()).keeper;
    expect(keeper?.pid).toBeDefined();
    sandbox.daemon?.kill('SIGKILL');
    await sandbox.daemon;
    const orphan = await active().catch(() => undefined);
    expect(orphan).toBeUndefined(); // nothing answers the control socket now
    for (const pid of sandbox.haproxyPids()) process.kill(pid, 'SIGKILL');
    await expect.poll(() => sandbox.haproxyPids(), { timeout: 5000 }).toEqual([]);
    expect(keeperPids(sandbox.dir)).toEqual([keeper?.pid]);
    // No haproxy runs: these wait in the kept sockets' accept queue instead of being refused.
    const waiting = Array.from({ length: 10 }, () => get(port));
    await sandbox.run();
    expect(await Promise.all(waiting)).toEqual(Array.from({ length: 10 }, () => 200));
    const status = await sandbox.status();
    expect(status.keeper?.pid).toBe(keeper?.pid);
    expect(status.lastReload).toMatchObject({ ok: true, mode: 'start', hitless: true });
  });

  it('ends with stop, stop --hard and cleanup --all, and is left for the next supervisor by a plain cleanup', async () => {
    sandbox.writeConfig(httpConfig(port, 'ends'));
    for (const stop of [['stop'], ['stop', '--hard']]) {
      await sandbox.run();
      await expect.poll(() => keeperPids(sandbox.dir).length, { timeout: 5000 }).toBe(1);
      expect((await sandbox.cli(stop)).exitCode).toBe(0);
      await sandbox.daemon;
      expect(keeperPids(sandbox.dir)).toEqual([]);
    }
    await sandbox.run();
    const keeper = keeperPids(sandbox.dir);
    expect(keeper).toHaveLength(1);
    sandbox.daemon?.kill('SIGKILL');
    await sandbox.daemon;
    const plain = await sandbox.cli(['cleanup', '-f', sandbox.config]);
    expect(plain.exitCode).toBe(0);
    expect(keeperPids(sandbox.dir)).toEqual(keeper);
    const all = await sandbox.cli(['cleanup', '--all', '-f', sandbox.config]);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toContain(`socket keeper pid ${keeper[0]}: ended`);
    expect(keeperPids(sandbox.dir)).toEqual([]);
    await expect.poll(() => sandbox.haproxyPids(), { timeout: 15_000 }).toEqual([]);
  });
});
