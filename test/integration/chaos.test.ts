import { beforeEach, describe, expect, it } from 'vitest';
import { sendRequest } from '../../src/control/client.js';
import { httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { isRunning } from '../helpers/os-probes.js';
import { Probe } from '../helpers/probe.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** A random pause between actions, so that kills land before, during and after reloads. */
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400));

describe('chaos', () => {
  it('after 20 s of random kill -9 of active and draining haproxy, reloads and SIGHUPs under load: one active generation, no orphan, every exit recorded', async () => {
    sandbox.writeConfig(httpConfig(port, 'chaos'));
    await sandbox.run(['--drain-timeout', '3s', '--kill-grace', '1s', '--respawn-backoff', '100ms', '--respawn-backoff-max', '1s']);
    const probe = new Probe(port, { concurrency: 20, maxRequests: 500_000, maxMs: 60_000 }).start();
    const killed = new Set<number>();
    const actions = { killActive: 0, killDraining: 0, reload: 0, sighup: 0 };
    const reloads: Array<Promise<unknown>> = [];
    // 20 s, longer (up to 40 s) if the dice have not yet killed 6 generations: the check below needs them.
    const until = Date.now() + 20_000;
    const atLatest = Date.now() + 40_000;
    while (Date.now() < until || (actions.killActive + actions.killDraining <= 5 && Date.now() < atLatest)) {
      const status = await sendRequest(sandbox.runDir, { cmd: 'status' });
      const active = status.generations.find((generation) => generation.state === 'active');
      const draining = status.generations.filter((generation) => generation.state === 'draining');
      const dice = Math.random();
      if (dice < 0.25 && active !== undefined && isRunning(active.pid)) {
        // The status may name an active generation killed a moment ago and not yet reaped: it may be gone now.
        try {
          process.kill(active.pid, 'SIGKILL');
          killed.add(active.pid);
          actions.killActive++;
        } catch {
          // Exited since the status.
        }
      } else if (dice < 0.45 && draining.length > 0) {
        const victim = draining[Math.floor(Math.random() * draining.length)];
        if (victim !== undefined && isRunning(victim.pid)) {
          try {
            process.kill(victim.pid, 'SIGKILL');
            killed.add(victim.pid);
            actions.killDraining++;
          } catch {
            // Exited since the check.
          }
        }
      } else if (dice < 0.75) {
        reloads.push(sandbox.cli(['reload']));
        actions.reload++;
      } else {
        sandbox.daemon?.kill('SIGHUP');
        actions.sighup++;
      }
      await pause();
    }
    await Promise.all(reloads);
    const report = await probe.stop();
    expect(report.ok, JSON.stringify(actions)).toBeGreaterThan(100);
    expect(actions.killActive + actions.killDraining, JSON.stringify(actions)).toBeGreaterThan(5);

    // Settles: exactly one active generation, and no haproxy of this sandbox but that one.
    await expect.poll(async () => (await sandbox.status()).generations.filter((generation) => generation.state !== 'exited').length, { timeout: 20_000 }).toBe(1);
    const status = await sandbox.status();
    const active = status.generations.filter((generation) => generation.state === 'active');
    expect(active).toHaveLength(1);
    await expect.poll(() => sandbox.haproxyPids(), { timeout: 10_000 }).toEqual([active[0]?.pid]);
    // Every exit the status still lists says how it ended; the ones killed from outside are not called drained. A kill
    // can land on a draining generation in the instant it exits on its own: its wait status is then exit code 0, and
    // drained is the truth. Every one the kill ended has SIGKILL in its wait status.
    for (const generation of status.generations.filter((entry) => entry.state === 'exited')) {
      expect(generation.exit?.reason, JSON.stringify(generation)).toBeDefined();
      if (!killed.has(generation.pid)) continue;
      if (generation.exit?.signal === 'SIGKILL') expect(['crashed', 'killed', 'failed-start']).toContain(generation.exit.reason);
      else expect(generation.exit, JSON.stringify(generation)).toMatchObject({ code: 0, signal: null, reason: 'drained' });
    }
    // The daemon served throughout and still reloads.
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
  });
});
