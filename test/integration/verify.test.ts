import http from 'node:http';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReloadResult } from '../../src/control/types.js';
import { freePort, useSandbox, type Sandbox } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** An HTTP backend answering `body`, closed after each test. */
const backends: http.Server[] = [];
afterEach(async () => {
  for (const server of backends.splice(0)) await new Promise((resolve) => server.close(resolve));
});
async function backend(body: string): Promise<number> {
  const server = http.createServer((_request, response) => response.end(body));
  backends.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/** A proxy to one server with a fast health check (and a second backend without checks, always there). */
function proxyConfig(serverPort: number): string {
  return `global
    hard-stop-after 30s
defaults
    mode http
    option idle-close-on-response
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:${port}
    default_backend app
backend app
    server s1 127.0.0.1:${serverPort} check inter 200ms
backend static
    http-request return status 200 content-type text/plain string static
`;
}

/** The proxy config with haproxy answering itself: not one `server` line. */
function serverlessConfig(body: string): string {
  return proxyConfig(0).replace(/ {4}default_backend app\nbackend app\n.*\n/, `    http-request return status 200 content-type text/plain string ${body}\n`);
}

const activePid = async (): Promise<number | undefined> => (await sandbox.status()).generations.find((generation) => generation.state === 'active')?.pid;

describe('the verify window', () => {
  it('rolls back a valid config whose backend points at a closed port (exit 16, the evidence), the old generation keeps serving, and only the new one’s answers during the window failed', async () => {
    const good = await backend('good');
    const closed = await freePort();
    sandbox.writeConfig(proxyConfig(good));
    await sandbox.run();
    const before = await activePid();
    const probe = new Probe(port, { concurrency: 20, maxRequests: 1_000_000, maxMs: 60_000 }).start();
    try {
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(100);
      sandbox.writeConfig(proxyConfig(closed));
      const reload = await sandbox.cli(['reload', '--json']);
      expect(reload.exitCode, reload.stdout).toBe(16);
      const result = JSON.parse(reload.stdout) as ReloadResult;
      expect(result.error).toMatchObject({ code: 'verify-failed', phase: 'verify' });
      expect(result.error?.message).toMatch(/^Rolled back: no server of app passed its first health check in the new generation/);
      expect(result.error?.lines).toEqual([expect.stringMatching(/^app\/s1: DOWN \(L4CON/)]);
      expect(result.timings.verifyMs).toBeLessThan(5000);
      expect(await activePid()).toBe(before);
      const status = await sandbox.status();
      expect(status.lastReload).toMatchObject({ ok: false, error: { phase: 'verify' } });
      // Every failure is an answer of the new generation during the window (its server refused): no refusal, no reset.
      const duringWindow = { ...probe.report.failures };
      expect(Object.keys(duringWindow).filter((kind) => kind !== 'http 503'), JSON.stringify(duringWindow)).toEqual([]);
      // Once rolled back, nothing fails.
      await expect.poll(() => sandbox.haproxyPids().length, { timeout: 10_000 }).toBe(1);
      const failedAtRollback = probe.report.failed;
      const okAtRollback = probe.report.ok;
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okAtRollback + 300);
      expect(probe.report.failed).toBe(failedAtRollback);
      expect(probe.report.bodies['good']).toBe(probe.report.ok);
    } finally {
      await probe.stop();
    }
    const history = JSON.parse((await sandbox.cli(['history', '--json', '-n', '1'])).stdout) as Array<{ ok: boolean; error?: { phase: string } }>;
    expect(history[0]).toMatchObject({ ok: false, error: { phase: 'verify' } });
  });

  it('lets a good config through once its first checks pass (the duration is its start plus those checks), and --no-verify pushes a bad one through on purpose', async () => {
    const first = await backend('first');
    const second = await backend('second');
    sandbox.writeConfig(proxyConfig(first));
    await sandbox.run();
    const probe = new Probe(port, { concurrency: 20, maxRequests: 1_000_000, maxMs: 60_000 }).start();
    try {
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(100);
      sandbox.writeConfig(proxyConfig(second));
      const reload = await sandbox.cli(['reload', '--json']);
      expect(reload.exitCode, reload.stdout).toBe(0);
      const result = JSON.parse(reload.stdout) as ReloadResult;
      // haproxy spreads first checks over the interval (200 ms): the window waited for them, not for its 5 s.
      expect(result.timings.verifyMs).toBeGreaterThan(0);
      expect(result.timings.verifyMs).toBeLessThan(1500);
      await expect.poll(() => probe.report.bodies['second'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
      expect(probe.report.failed, JSON.stringify(probe.report.failures)).toBe(0);
    } finally {
      await probe.stop();
    }
    sandbox.writeConfig(proxyConfig(await freePort()));
    const forced = await sandbox.cli(['reload', '--no-verify', '--json']);
    expect(forced.exitCode, forced.stdout).toBe(0);
    expect((JSON.parse(forced.stdout) as ReloadResult).timings.verifyMs).toBeUndefined();
  });

  it('adds no wait to a config without health checks', async () => {
    sandbox.writeConfig(proxyConfig(await backend('one')).replace(' check inter 200ms', ''));
    await sandbox.run();
    sandbox.writeConfig(proxyConfig(await backend('two')).replace(' check inter 200ms', ''));
    const result = JSON.parse((await sandbox.cli(['reload', '--json'])).stdout) as ReloadResult;
    expect(result.ok).toBe(true);
    expect(result.timings.verifyMs).toBeLessThan(100);
  });

  it('opens no window for a config without any server: nothing to check, no `show stat` of either generation', async () => {
    sandbox.writeConfig(serverlessConfig('one'));
    expect(readFileSync(sandbox.config, 'utf8')).not.toMatch(/^\s*server/m);
    await sandbox.run();
    sandbox.writeConfig(serverlessConfig('two'));
    const result = JSON.parse((await sandbox.cli(['reload', '--json'])).stdout) as ReloadResult;
    expect(result.ok).toBe(true);
    expect(result.timings.verifyMs).toBeUndefined();
  });

  it('still opens it for a config without servers when 5xx answers are compared (--verify-observe)', async () => {
    sandbox.writeConfig(serverlessConfig('one'));
    await sandbox.run(['--verify-observe', '300ms']);
    sandbox.writeConfig(serverlessConfig('two'));
    const result = JSON.parse((await sandbox.cli(['reload', '--json'])).stdout) as ReloadResult;
    expect(result.ok).toBe(true);
    expect(result.timings.verifyMs).toBeGreaterThanOrEqual(300);
  });

  it('a watch-triggered bad-but-valid edit is rolled back once and not retried until the file changes again', async () => {
    const good = await backend('good');
    sandbox.writeConfig(proxyConfig(good));
    await sandbox.run(['--watch', '--watch-quiet', '100ms']);
    const before = await activePid();
    const bad = proxyConfig(await freePort());
    sandbox.writeConfig(bad);
    await expect.poll(async () => (await sandbox.status()).lastReload?.error?.phase, { timeout: 15_000 }).toBe('verify');
    const failed = await sandbox.status();
    expect(failed.watch.lastError).toMatch(/^Rolled back/);
    expect(await activePid()).toBe(before);
    // The same content written again (an event in the watched directory): not retried. Proving that nothing
    // happens takes a wait longer than the settle window (100 ms), as the watch tests do.
    sandbox.writeConfig(bad);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await sandbox.status()).lastReload?.id).toBe(failed.lastReload?.id);
    sandbox.writeConfig(proxyConfig(good).replace('string static', 'string changed'));
    await expect.poll(async () => (await sandbox.status()).lastReload, { timeout: 15_000 }).toMatchObject({ ok: true, id: (failed.lastReload?.id ?? 0) + 1 });
  });
});
