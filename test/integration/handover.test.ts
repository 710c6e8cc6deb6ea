import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { CLI, frontendConfig, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { childPids, isAlive, isRunning } from '../helpers/os-probes.js';
import { Probe } from '../helpers/probe.js';

const INIT = path.resolve(import.meta.dirname, '../../init/haproxy-supervisor');

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

type Residuals = { residuals: Array<{ pid: number; usage: { listening: boolean }; outcome?: string }> };

describe('run --takeover', () => {
  it('takes the listeners of a master-worker haproxy over with no failed request, then retires its master and worker', async () => {
    const admin = path.join(sandbox.dir, 'admin.sock');
    // As Debian's haproxy.service runs it, with Debian's default stats socket line.
    sandbox.writeConfig(httpConfig(port, 'takeover', `    stats socket ${admin} mode 660 level admin expose-fd listeners`));
    const old = execa('haproxy', ['-Ws', '-f', sandbox.config], { reject: false });
    // The master and its worker, by the master's children: right after it forks the worker, the master re-executes
    // itself (wait mode), and a /proc scan by command line can miss it for that instant.
    await expect.poll(() => sandbox.haproxyPids().length, { timeout: 10_000 }).toBe(2);
    const master = old.pid ?? 0;
    await expect.poll(() => childPids(master).length, { timeout: 10_000 }).toBe(1);
    const oldPids = [master, ...childPids(master)];
    const probe = new Probe(port, { concurrency: 20, maxRequests: 500_000, maxMs: 60_000 }).start();
    try {
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
      await sandbox.run(['--takeover', admin]);
      const status = await sandbox.status();
      expect(status.lastReload).toMatchObject({ ok: true, mode: 'reload', hitless: true });
      expect(status.lastReload?.retired.map((generation) => generation.pid).sort()).toEqual([...oldPids].sort());
      await expect.poll(() => oldPids.filter(isAlive).length, { timeout: 15_000 }).toBe(0);
      await expect.poll(async () => (await sandbox.status()).generations.filter((generation) => generation.state !== 'exited').length, { timeout: 5000 }).toBe(1);
      const okBefore = probe.report.ok;
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okBefore + 100);
      const report = await probe.stop();
      expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    } finally {
      await probe.stop();
      old.kill('SIGKILL');
      await old;
    }
  });
});

describe('cleanup', () => {
  it('finds haproxy processes of this config outside the registry, leaves other configs and the live generations alone, and stops them', async () => {
    sandbox.writeConfig(httpConfig(port, 'mine'));
    await sandbox.run();
    const generation = (await sandbox.status()).generations.find((entry) => entry.state === 'active');
    // A residual of an earlier wrapper (same config), and an haproxy of another configuration.
    await execa('haproxy', ['-D', '-f', sandbox.config, '-p', path.join(sandbox.dir, 'old.pid')]);
    const residual = Number(readFileSync(path.join(sandbox.dir, 'old.pid'), 'utf8').trim());
    const other = path.join(sandbox.dir, 'other.cfg');
    writeFileSync(other, frontendConfig(port + 1 === 65536 ? port - 1 : port + 1, ['http-request return status 200 content-type text/plain string "other"']));
    await execa('haproxy', ['-D', '-f', other, '-p', path.join(sandbox.dir, 'other.pid')]);
    const stranger = Number(readFileSync(path.join(sandbox.dir, 'other.pid'), 'utf8').trim());
    try {
      const dry = await sandbox.cli(['cleanup', '-f', sandbox.config, '--dry-run', '--json']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      const found = JSON.parse(dry.stdout) as Residuals;
      expect(found.residuals.map((entry) => entry.pid)).toEqual([residual]);
      // The short form an operator types in an incident: the run dir knows the configuration.
      const short = await sandbox.cli(['cleanup', '--dry-run', '--json']);
      expect(short.exitCode, short.stderr).toBe(0);
      expect((JSON.parse(short.stdout) as Residuals).residuals.map((entry) => entry.pid)).toEqual([residual]);
      expect(found.residuals[0]?.usage.listening).toBe(true);
      expect(isRunning(residual)).toBe(true);

      const done = await sandbox.cli(['cleanup', '-f', sandbox.config, '--kill-grace', '1s', '--json']);
      expect((JSON.parse(done.stdout) as Residuals).residuals).toEqual([expect.objectContaining({ pid: residual, outcome: 'drained' })]);
      expect(isRunning(residual)).toBe(false);
      expect(isRunning(stranger)).toBe(true);
      expect(isAlive(generation?.pid ?? -1)).toBe(true);
      // No supervisor and no state.json in a run dir: say to pass -f (exit 2), touch nothing.
      const unknown = await execa('node', [CLI, 'cleanup', '--dry-run', '--run-dir', path.join(sandbox.dir, 'nothing-here')], { reject: false });
      expect(unknown.exitCode).toBe(2);
      expect(String(unknown.stderr)).toContain('pass `-f`');
    } finally {
      for (const pid of [residual, stranger]) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('LSB init script: crash, upgrade and stop', () => {
  it('survives a supervisor crash (start adopts), hands over on upgrade (the pidfile names the new one), and stop leaves nothing even after a crash', async () => {
    const defaults = path.join(sandbox.dir, 'default');
    writeFileSync(defaults, `SUPERVISOR="node ${CLI}"\nCONFIG="${sandbox.config}"\nRUN_DIR="${sandbox.runDir}"\nLOG_FILE="${sandbox.dir}/supervisor.log"\nKILL_GRACE=1s\nEXTRA_OPTS="--no-watch"\n`);
    const init = async (action: string): Promise<number> => (await execa('sh', [INIT, action], { reject: false, env: { HAPROXY_SUPERVISOR_DEFAULTS: defaults } })).exitCode ?? -1;
    const pidfile = (): number => Number(readFileSync(path.join(sandbox.runDir, 'supervisor.pid'), 'utf8').trim());
    sandbox.writeConfig(httpConfig(port, 'sysv'));
    const probe = new Probe(port, { concurrency: 10, maxRequests: 500_000, maxMs: 60_000 });
    try {
      expect(await init('start')).toBe(0);
      probe.start();
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);

      process.kill(pidfile(), 'SIGKILL');
      expect(await init('start')).toBe(0);
      const first = pidfile();
      const upgraded = await sandbox.cli(['upgrade']);
      expect(upgraded.exitCode, upgraded.stderr).toBe(0);
      await expect.poll(pidfile, { timeout: 10_000 }).not.toBe(first);
      expect(await init('status')).toBe(0);
      const okBefore = probe.report.ok;
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okBefore + 50);
      const report = await probe.stop();
      expect(report.failed, JSON.stringify(report.failures)).toBe(0);

      process.kill(pidfile(), 'SIGKILL');
      expect(sandbox.haproxyPids().length).toBeGreaterThan(0);
      expect(await init('stop')).toBe(0);
      expect(sandbox.haproxyPids()).toEqual([]);
    } finally {
      await probe.stop();
      await init('stop');
    }
  });
});
