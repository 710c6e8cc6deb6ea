import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrashPoint } from '../../src/system/crash-point.js';
import { readPidfile } from '../../src/system/pidfile.js';
import { httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { tcpProxyConfig, useHoldingBackend } from '../helpers/tcp-backend.js';
import { isRunning } from '../helpers/os-probes.js';
import { Probe } from '../helpers/probe.js';

const context = useSandbox();
const backend = useHoldingBackend();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** A supervisor the test did not start itself (an upgrade's successor) is stopped (hard) by pid after the test. */
afterEach(async () => {
  const pid = readPidfile(path.join(sandbox.runDir, 'supervisor.pid'));
  if (pid === undefined || pid === sandbox.daemon?.pid || !isRunning(pid)) return;
  process.kill(pid, 'SIGQUIT');
  await expect.poll(() => isRunning(pid), { timeout: 15_000 }).toBe(false);
});

const OPTIONS = ['--drain-timeout', '4s', '--kill-grace', '1s'];

/** Arms the crash point: the daemon kills itself with SIGKILL the next time it reaches `point`. */
async function runArmed(point: CrashPoint): Promise<string> {
  const marker = path.join(sandbox.dir, `crash-${point}`);
  await sandbox.run(OPTIONS, { HAPSUP_CRASH_AT: `${point}:${marker}` });
  return marker;
}

/** The run dir settles on one live generation, the active one, and no other haproxy of the sandbox runs. */
async function settlesOnOneGeneration(): Promise<number | undefined> {
  await expect.poll(async () => (await sandbox.status()).generations.filter((generation) => generation.state !== 'exited').length, { timeout: 20_000 }).toBe(1);
  const active = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
  expect(active).toBeDefined();
  await expect.poll(() => sandbox.haproxyPids(), { timeout: 10_000 }).toEqual([active?.pid]);
  return active?.pid;
}

describe('a supervisor killed -9 in the middle of a reload', () => {
  const reloadPoints: CrashPoint[] = ['before-spawn', 'after-spawn', 'after-ready', 'after-activate', 'after-retire'];
  for (const point of reloadPoints) {
    it(`at ${point}: haproxy serves on, the next supervisor starts (exit 0) and finishes, one active generation, no orphan, 0 failed requests`, async () => {
      sandbox.writeConfig(httpConfig(port, 'one'));
      const marker = await runArmed(point);
      const probe = new Probe(port, { concurrency: 20, maxRequests: 500_000, maxMs: 90_000 }).start();
      try {
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
        sandbox.writeConfig(httpConfig(port, 'two'));
        writeFileSync(marker, '');
        sandbox.daemon?.kill('SIGHUP');
        const killed = await sandbox.daemon;
        expect(killed?.signal, sandbox.output.slice(-2000)).toBe('SIGKILL');
        const okAfterKill = probe.report.ok;
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okAfterKill + 50);

        // The next supervisor on the same run dir: no refusal, whatever the previous one left.
        await sandbox.run(OPTIONS);
        const status = await sandbox.status();
        expect(status.lastReload, JSON.stringify(status.generations)).toMatchObject({ ok: true, mode: 'reload', hitless: true });
        await expect.poll(() => probe.report.bodies['two'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
        await settlesOnOneGeneration();
        const report = await probe.stop();
        expect(report.failed, JSON.stringify(report.failures)).toBe(0);
        // And it goes on reloading.
        expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
      } finally {
        await probe.stop();
      }
    });
  }

  it('right after a spawn no checkpoint preceded, whose generation then dies too: the next supervisor never gives its id out again', async () => {
    sandbox.writeConfig(httpConfig(port, 'one'));
    const marker = await runArmed('after-spawn');
    // Reloads 2 and 3 spawn generations 2 and 3 within the ids the first start reserved: no checkpoint of their own.
    for (const body of ['two', 'three']) {
      sandbox.writeConfig(httpConfig(port, body));
      expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    }
    const before = (await sandbox.status()).generations.map((generation) => generation.id);
    expect(before).toContain(3);
    writeFileSync(marker, '');
    sandbox.writeConfig(httpConfig(port, 'four'));
    sandbox.daemon?.kill('SIGHUP');
    expect((await sandbox.daemon)?.signal, sandbox.output.slice(-2000)).toBe('SIGKILL');
    // Generation 4 was spawned and named nowhere on disk; it dies before any supervisor saw it.
    const orphan = sandbox.haproxyPids().find((pid) => /gen\/4\.sock/.test(readFileSync(`/proc/${pid}/environ`, 'utf8')));
    expect(orphan).toBeDefined();
    process.kill(orphan as number, 'SIGKILL');
    await expect.poll(() => isRunning(orphan as number), { timeout: 5000 }).toBe(false);
    await sandbox.run(OPTIONS);
    const ids = (await sandbox.status()).generations.map((generation) => generation.id);
    const started = Math.max(...ids);
    expect(started, JSON.stringify(ids)).toBeGreaterThan(4);
    expect(ids.filter((id) => id === 4)).toEqual([]);
    await settlesOnOneGeneration();
  });

  it('during a drain escalation (right after the deadline SIGTERM): the next supervisor starts and nothing is left', async () => {
    const backendPort = await backend.start();
    sandbox.writeConfig(tcpProxyConfig(port, backendPort));
    const marker = path.join(sandbox.dir, 'crash-escalation');
    await sandbox.run(['--drain-timeout', '1s', '--kill-grace', '1s'], { HAPSUP_CRASH_AT: `escalation:${marker}` });
    // A held connection keeps the old generation draining until its deadline.
    backend.track(connect(port, '127.0.0.1'));
    await expect.poll(() => backend.accepted.length, { timeout: 5000 }).toBe(1);
    writeFileSync(marker, '');
    sandbox.writeConfig(tcpProxyConfig(port, backendPort, '    maxconn 999'));
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    const killed = await sandbox.daemon;
    expect(killed?.signal, sandbox.output.slice(-2000)).toBe('SIGKILL');
    await sandbox.run(OPTIONS);
    await settlesOnOneGeneration();
  });
});

describe('a supervisor killed -9 in the middle of an upgrade', () => {
  for (const point of ['handover-spawned', 'handover-reported'] as const) {
    it(`at ${point} (the old one): the successor takes charge, haproxy untouched, 0 failed requests, and it reloads and stops cleanly`, async () => {
      sandbox.writeConfig(httpConfig(port, 'one'));
      const marker = await runArmed(point);
      const before = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
      const probe = new Probe(port, { concurrency: 20, maxRequests: 500_000, maxMs: 90_000 }).start();
      try {
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
        writeFileSync(marker, '');
        const upgrade = sandbox.cli(['upgrade']);
        // Not `await sandbox.daemon`: the successor inherited its stdout, which stays open.
        await expect.poll(() => sandbox.daemon?.signalCode, { timeout: 20_000 }).toBe('SIGKILL');
        await upgrade;
        // The successor owns the run dir and answers, over the same haproxy.
        await expect.poll(async () => (await sandbox.cli(['status', '--json'])).exitCode, { timeout: 20_000 }).toBe(0);
        await expect.poll(async () => (await sandbox.status()).supervisor.state, { timeout: 20_000 }).toBe('running');
        const status = await sandbox.status();
        expect(status.supervisor.pid).not.toBe(sandbox.daemon?.pid);
        expect(status.generations.find((generation) => generation.state === 'active')?.pid).toBe(before?.pid);
        sandbox.writeConfig(httpConfig(port, 'two'));
        expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
        await expect.poll(() => probe.report.bodies['two'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
        const report = await probe.stop();
        expect(report.failed, JSON.stringify(report.failures)).toBe(0);
        expect((await sandbox.cli(['stop'])).exitCode).toBe(0);
        await expect.poll(() => sandbox.haproxyPids(), { timeout: 15_000 }).toEqual([]);
      } finally {
        await probe.stop();
      }
    });
  }
});

/** The config of the probe: 5 000 backends of 4 servers each, so that a generation takes a while to start. */
function slowStartConfig(body: string): string {
  const backends: string[] = [];
  for (let index = 0; index < 5000; index++) {
    backends.push(`backend b${index}`);
    for (let server = 1; server <= 4; server++) backends.push(`    server s${server} 127.0.0.1:${10000 + ((index * 4 + server) % 50000)}`);
  }
  return `${httpConfig(port, body)}${backends.join('\n')}\n`;
}

/** Rounds of the random-instant loop: a few in the suite; HS_CRASH_ROUNDS=50 for the full probe. */
const ROUNDS = Number(process.env['HS_CRASH_ROUNDS'] ?? 6);

describe('a supervisor killed -9 at a random instant of a reload, again and again', () => {
  it(`${ROUNDS} rounds of SIGHUP, kill -9 0–300 ms later, start again, on a 5 000-backend config under load: every start succeeds, 0 failed requests, one haproxy left after the drain`, { timeout: 60_000 + ROUNDS * 15_000 }, async () => {
    sandbox.writeConfig(slowStartConfig('round 0'));
    await sandbox.run(['--drain-timeout', '10s', '--kill-grace', '1s']);
    const probe = new Probe(port, { concurrency: 50, maxRequests: 5_000_000, maxMs: 30_000 + ROUNDS * 15_000 }).start();
    try {
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
      const delays: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        sandbox.writeConfig(slowStartConfig(`round ${round}`));
        sandbox.daemon?.kill('SIGHUP');
        const delay = Math.round(Math.random() * 300);
        delays.push(delay);
        await new Promise((resolve) => setTimeout(resolve, delay)); // the instant of the crash is the point of the test
        sandbox.daemon?.kill('SIGKILL');
        await sandbox.daemon;
        await sandbox.run(['--drain-timeout', '10s', '--kill-grace', '1s']);
        expect((await sandbox.status()).lastReload, `round ${round}, kill after ${delay} ms`).toMatchObject({ ok: true });
      }
      await expect.poll(() => probe.report.bodies[`round ${ROUNDS}`] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
      await settlesOnOneGeneration();
      const report = await probe.stop();
      if (process.env['HS_CRASH_ROUNDS'] !== undefined) process.stdout.write(`${ROUNDS} rounds: ${report.ok} requests ok, ${report.failed} failed; kills after ${delays.join(', ')} ms\n`);
      expect(report.failed, `${JSON.stringify(report.failures)} (kills after ${delays.join(', ')} ms)`).toBe(0);
      expect(report.ok).toBeGreaterThan(ROUNDS * 50);
    } finally {
      await probe.stop();
    }
  });
});
