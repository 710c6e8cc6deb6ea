import { beforeEach, describe, expect, it } from 'vitest';
import { httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

describe('supervisor restart', () => {
  it('haproxy keeps serving when the supervisor is killed, and a new supervisor takes it over hitlessly', async () => {
    sandbox.writeConfig(httpConfig(port, 'before'));
    await sandbox.run();
    const first = (await sandbox.status()).generations.find((g) => g.state === 'active');
    const probe = new Probe(port, { concurrency: 20, maxRequests: 200_000, maxMs: 60_000 }).start();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);

    sandbox.daemon?.kill('SIGKILL');
    await sandbox.daemon;
    const okAfterKill = probe.report.ok;
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okAfterKill + 100);
    expect(sandbox.haproxyPids()).toEqual([first?.pid]);

    sandbox.writeConfig(httpConfig(port, 'after'));
    await sandbox.run();
    await expect.poll(() => probe.report.bodies['after'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);

    const status = await sandbox.status();
    expect(status.lastReload).toMatchObject({ ok: true, mode: 'reload', hitless: true });
    const active = status.generations.find((g) => g.state === 'active');
    expect(active?.id).toBeGreaterThan(first?.id ?? Infinity);
    await expect.poll(async () => (await sandbox.status()).generations.find((g) => g.id === first?.id)?.exit?.reason, { timeout: 15_000 }).toBe('drained');
    expect(sandbox.haproxyPids()).toEqual([active?.pid]);
  });
});
