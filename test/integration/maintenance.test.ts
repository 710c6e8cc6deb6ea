import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { sendRequest } from '../../src/control/client.js';
import type { EnvResult, ReloadResult } from '../../src/control/types.js';
import { runtimeCommand } from '../../src/haproxy/runtime-api.js';
import { frontendConfig, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';
import { bodyOf } from '../helpers/http.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** The live-flip pattern (examples/maintenance/haproxy.cfg): a process variable seeded from HAPROXY_MAINT. */
function maintenanceConfig(): string {
  return frontendConfig(
    port,
    ['acl maint var(proc.maint) -m int gt 0', 'http-request return status 503 content-type text/plain string "maintenance" if maint', 'http-request return status 200 content-type text/plain string "app"'],
    '    set-var proc.maint env(HAPROXY_MAINT),add(0)',
  );
}

/** One request on a new connection: its body, or '' when it failed. */
const body = (): Promise<string> => bodyOf(port, '/', 2000);

const activeOf = async (): Promise<{ id: number; pid: number } | undefined> => {
  const active = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
  return active === undefined ? undefined : { id: active.id, pid: active.pid };
};

describe('maintenance flag', () => {
  it('flips live in milliseconds without a new process, and the value survives a reload, a crash respawn and a supervisor restart', async () => {
    sandbox.writeConfig(maintenanceConfig());
    await sandbox.run();
    const probe = new Probe(port, { concurrency: 10, maxRequests: 500_000, maxMs: 90_000 }).start();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    const before = await activeOf();
    const lastReload = (await sandbox.status()).lastReload?.id;

    const flippedAt = performance.now();
    const on = await sendRequest(sandbox.runDir, { cmd: 'env', set: { HAPROXY_MAINT: '1' }, unset: [] });
    await expect.poll(body, { timeout: 200, interval: 5 }).toBe('maintenance');
    expect(performance.now() - flippedAt).toBeLessThan(200);
    expect(on).toMatchObject({ ok: true, applied: 'live', flipped: [{ id: before?.id }], env: { HAPROXY_MAINT: '1' } });
    expect(await activeOf()).toEqual(before);
    expect((await sandbox.status()).lastReload?.id).toBe(lastReload);

    const off = await sandbox.cli(['maint', 'off']);
    expect(off.exitCode, off.stderr).toBe(0);
    expect(off.stdout).toContain('HAPROXY_MAINT=0: flipped live');
    await expect.poll(body, { timeout: 1000, interval: 5 }).toBe('app');
    expect((await sandbox.cli(['maint', 'on'])).exitCode).toBe(0);
    await expect.poll(body, { timeout: 1000, interval: 5 }).toBe('maintenance');

    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect(await body()).toBe('maintenance');
    const report = await probe.stop();
    // Every answer is the application's or the maintenance page (503): no request failed through the flips and the reload.
    expect(Object.keys(report.failures).filter((kind) => kind !== 'http 503'), JSON.stringify(report.failures)).toEqual([]);
    expect(report.bodies['app']).toBeGreaterThan(0);

    const reloaded = await activeOf();
    expect(reloaded?.id).toBeGreaterThan(before?.id ?? 0);
    process.kill(reloaded?.pid ?? -1, 'SIGKILL');
    await expect.poll(async () => (await activeOf())?.id, { timeout: 5000 }).toBeGreaterThan(reloaded?.id ?? 0);
    expect(await body()).toBe('maintenance');

    sandbox.daemon?.kill('SIGKILL');
    await sandbox.daemon;
    await sandbox.run();
    expect((await sandbox.status()).env).toEqual({ HAPROXY_MAINT: '1' });
    expect(await body()).toBe('maintenance');
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect(await body()).toBe('maintenance');
    const status = await sandbox.cli(['maint', 'status']);
    expect(status.stdout).toContain('maintenance ON (HAPROXY_MAINT=1); flips live (proc.maint)');
  });

  it('applies a variable the config reads only at start with exactly one seamless reload, dropping no request', async () => {
    sandbox.writeConfig(frontendConfig(port, ['http-request return status 200 content-type text/plain string "${GREETING}"']));
    await sandbox.run([], { GREETING: 'hello' });
    expect(await body()).toBe('hello');
    const probe = new Probe(port, { concurrency: 20, maxRequests: 500_000, maxMs: 60_000 }).start();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    const lastReload = (await sandbox.status()).lastReload?.id ?? 0;
    const set = await sandbox.cli(['env', 'set', 'GREETING=bonjour', '--json']);
    expect(set.exitCode, set.stderr).toBe(0);
    const result = JSON.parse(set.stdout) as EnvResult;
    expect(result).toMatchObject({ ok: true, applied: 'reload', reload: { ok: true, hitless: true, triggers: ['env'] } });
    expect(result.warnings.join('\n')).toContain('GREETING is read where only a new process sees it');
    await expect.poll(() => probe.report.bodies['bonjour'] ?? 0, { timeout: 5000 }).toBeGreaterThan(10);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect((await sandbox.status()).lastReload?.id).toBe(lastReload + 1);
  });

  it('keeps the previous value stored and serving when the reload a change needs fails', async () => {
    sandbox.writeConfig(frontendConfig(port, ['http-request return status 200 content-type text/plain string "${GREETING}"']));
    await sandbox.run([], { GREETING: 'hello' });
    expect((await sandbox.cli(['env', 'set', 'GREETING=first'])).exitCode).toBe(0);
    expect(await body()).toBe('first');
    sandbox.writeConfig(`${frontendConfig(port, ['http-request return status 200 content-type text/plain string "${GREETING}"'])}    this-is-not-a-keyword\n`);
    const failed = await sandbox.cli(['env', 'set', 'GREETING=second']);
    expect(failed.exitCode).toBe(10);
    expect(failed.stderr).toContain('The variables keep their previous values.');
    expect((await sandbox.status()).env).toEqual({ GREETING: 'first' });
    expect(await body()).toBe('first');
  });

  it('ends 20 concurrent alternating maint on/off in the state of the last one applied, with one generation and no new process', async () => {
    sandbox.writeConfig(maintenanceConfig());
    await sandbox.run();
    const before = await activeOf();
    const finished: EnvResult[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        sendRequest(sandbox.runDir, { cmd: 'env', set: { HAPROXY_MAINT: index % 2 === 0 ? '1' : '0' }, unset: [] }).then((result) => finished.push(result)),
      ),
    );
    const last = finished.at(-1);
    const status = await sandbox.status();
    expect(status.env).toEqual(last?.env);
    expect(await body()).toBe(last?.env['HAPROXY_MAINT'] === '1' ? 'maintenance' : 'app');
    expect(status.generations.filter((generation) => generation.state !== 'exited')).toEqual([expect.objectContaining({ id: before?.id, state: 'active' })]);
    expect(sandbox.haproxyPids()).toEqual([before?.pid]);
  });

  it('refuses invalid names and values with exit 2, storing and reloading nothing', async () => {
    sandbox.writeConfig(httpConfig(port, 'x'));
    await sandbox.run();
    const lastReload = (await sandbox.status()).lastReload?.id;
    for (const args of [['env', 'set', '1BAD=x'], ['env', 'set', 'PATH=/tmp'], ['env', 'set', 'HAPROXY_SUPERVISOR_RUN_DIR=x'], ['env', 'set', 'NOEQUALS'], ['env', 'set', `BIG=${'x'.repeat(5000)}`], ['env', 'unset', 'bad-name'], ['env', 'set']]) {
      const refused = await sandbox.cli(args);
      expect(refused.exitCode, `${args.join(' ').slice(0, 40)}: ${refused.stderr}`).toBe(2);
    }
    const raw = await sendRequest(sandbox.runDir, { cmd: 'env', set: { LD_PRELOAD: '/tmp/x.so' }, unset: [] }).catch((error: unknown) => error);
    expect(raw).toMatchObject({ code: 'bad-request' });
    const status = await sandbox.status();
    expect(status.env).toEqual({});
    expect(status.lastReload?.id).toBe(lastReload);
  });
});

describe('server state across reloads', () => {
  it('carries servers put in maintenance and weights set at runtime into the next generation', async () => {
    const stateFile = path.join(sandbox.dir, 'server-state');
    const config = frontendConfig(port, ['default_backend be'], `    server-state-file ${stateFile}`).replace('defaults\n', 'defaults\n    load-server-state-from-file global\n');
    sandbox.writeConfig(`${config}backend be\n    server s1 127.0.0.1:9 weight 1\n    server s2 127.0.0.1:10 weight 1\n`);
    await sandbox.run();
    const first = await activeOf();
    const socket = path.join(sandbox.runDir, 'gen', `${first?.id}.sock`);
    expect(await runtimeCommand(socket, 'set server be/s1 state maint', 1000)).toBe('\n');
    expect(await runtimeCommand(socket, 'set weight be/s2 3', 1000)).toBe('\n');
    const reload = await sandbox.cli(['reload', '--json']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    expect((JSON.parse(reload.stdout) as ReloadResult).warnings.join('\n')).not.toContain('Server state not carried over');
    const second = await activeOf();
    expect(second?.id).toBeGreaterThan(first?.id ?? 0);
    const state = await runtimeCommand(path.join(sandbox.runDir, 'gen', `${second?.id}.sock`), 'show servers state be', 1000);
    const servers = new Map<string, { adminState: number; weight: number }>();
    for (const fields of state.split('\n').filter((line) => /^\d/.test(line)).map((line) => line.split(' '))) {
      servers.set(fields[3] ?? '', { adminState: Number(fields[6]), weight: Number(fields[7]) });
    }
    // srv_admin_state bit 0x01: forced maintenance (FMAINT); srv_uweight: the weight set by the user.
    expect((servers.get('s1')?.adminState ?? 0) & 1).toBe(1);
    expect(servers.get('s2')?.weight).toBe(3);
  });
});
