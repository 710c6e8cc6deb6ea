import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../src/control/types.js';
import { freePort, frontendConfig, httpConfig } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';
import { PrivateSystemd } from '../helpers/systemd.js';
import { tcpProxyConfig, useHoldingBackend } from '../helpers/tcp-backend.js';

const UNIT = 'haproxy-supervisor.service';
const unavailable = PrivateSystemd.unavailable();

describe.skipIf(unavailable !== undefined)(`haproxy-supervisor.service under a real systemd${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs-test-systemd-'));
  const systemd = new PrivateSystemd(dir);
  const backend = useHoldingBackend();
  let port = 0;

  /** The config as the service reads it (/run/hs-test/haproxy.cfg inside the namespace). */
  const writeConfig = (text: string): void => systemd.writeFile('/run/hs-test/haproxy.cfg', text);
  const cli = (args: string[]): string => systemd.exec(['haproxy-supervisor', ...args, '--run-dir', '/run/haproxy-supervisor']);
  const status = (): Status => JSON.parse(cli(['status', '--json'])) as Status;
  const haproxyInside = (): string[] => systemd.exec(['pgrep', '-a', '-x', 'haproxy'], true).split('\n').filter((line) => line !== '');
  const systemctl = (...args: string[]): number => systemd.status(['systemctl', ...args]);
  /** The unit's last journal lines, for a failure's message. */
  const journal = (): string => systemd.exec(['journalctl', '-u', UNIT, '-n', '40', '--no-pager'], true);

  beforeAll(async () => {
    port = await freePort();
    mkdirSync(path.join(dir, 'units', `${UNIT}.d`), { recursive: true });
    copyFileSync(path.resolve(import.meta.dirname, '../../systemd', UNIT), path.join(dir, 'units', UNIT));
    writeFileSync(
      path.join(dir, 'units', `${UNIT}.d`, 'test.conf'),
      // ReadWritePaths: the crash points' marker (ProtectSystem=strict makes the rest of /run read-only).
      '[Service]\nEnvironment=CONFIG=/run/hs-test/haproxy.cfg DRAIN_TIMEOUT=5s KILL_GRACE=1s "EXTRA_OPTS=--no-watch --watchdog-interval 0"\nTimeoutStopSec=60s\nRestartSec=300ms\nReadWritePaths=/run/hs-test\n',
    );
    writeFileSync(path.join(dir, 'haproxy.cfg'), httpConfig(port, 'systemd'));
    // Debian's haproxy.service as the package ships it, under another name (the image's own is masked), without
    // its restart (the migration guide's runtime drop-in) and reading the test's config.
    copyFileSync('/lib/systemd/system/haproxy.service', path.join(dir, 'units', 'haproxy-debian.service'));
    mkdirSync(path.join(dir, 'units', 'haproxy-debian.service.d'), { recursive: true });
    writeFileSync(path.join(dir, 'units', 'haproxy-debian.service.d', 'test.conf'), '[Service]\nEnvironment=CONFIG=/run/hs-test/haproxy.cfg PIDFILE=/run/haproxy-debian.pid\nRestart=no\nBindReadOnlyPaths=\n');
    await systemd.boot();
  }, 60_000);

  const probes: Probe[] = [];
  const startProbe = (): Probe => {
    const probe = new Probe(port, { concurrency: 20, maxRequests: 500_000, maxMs: 60_000 }).start();
    probes.push(probe);
    return probe;
  };

  afterEach(async () => {
    for (const probe of probes.splice(0)) await probe.stop();
    systemctl('stop', UNIT);
    systemctl('reset-failed', UNIT);
    expect(haproxyInside(), 'haproxy left after the unit stopped').toEqual([]);
  });

  afterAll(async () => {
    await systemd.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is active only once haproxy serves, and failed (no restart loop) when the config is invalid', async () => {
    writeConfig(httpConfig(port, 'systemd'));
    expect(systemctl('start', UNIT)).toBe(0);
    expect(systemd.property(UNIT, 'ActiveState')).toBe('active');
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('systemd');
    systemctl('stop', UNIT);
    writeConfig(`${httpConfig(port, 'systemd')}    no-such-keyword\n`);
    expect(systemctl('start', UNIT)).not.toBe(0);
    expect(systemd.property(UNIT, 'ActiveState')).toBe('failed');
    expect(systemd.property(UNIT, 'NRestarts')).toBe('0');
  });

  it('reloads with systemctl reload, and fails it (old generation serving) for a bad config', async () => {
    writeConfig(httpConfig(port, 'one'));
    expect(systemctl('start', UNIT)).toBe(0);
    writeConfig(httpConfig(port, 'two'));
    expect(systemctl('reload', UNIT)).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('two');
    writeConfig(`${httpConfig(port, 'three')}    no-such-keyword\n`);
    expect(systemctl('reload', UNIT)).not.toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('two');
    expect(systemd.property(UNIT, 'ActiveState')).toBe('active');
  });

  it('keeps haproxy serving when the supervisor is killed -9: restarted, generations adopted, the next reload drains them', async () => {
    writeConfig(httpConfig(port, 'crash'));
    expect(systemctl('start', UNIT)).toBe(0);
    const before = status();
    const mainPid = systemd.property(UNIT, 'MainPID');
    const probe = startProbe();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    systemd.exec(['kill', '-9', mainPid]);
    await expect.poll(() => systemd.property(UNIT, 'MainPID'), { timeout: 15_000, interval: 100 }).not.toMatch(new RegExp(`^(${mainPid}|0)$`));
    await expect.poll(() => systemd.property(UNIT, 'ActiveState'), { timeout: 15_000, interval: 100 }).toBe('active');
    const adopted = status();
    const first = before.generations.find((generation) => generation.state === 'active');
    // The new supervisor adopted it and took its listeners over hitlessly with its first generation: it drains.
    expect(adopted.lastReload).toMatchObject({ mode: 'reload', hitless: true, triggers: ['start'], retired: [{ id: first?.id, pid: first?.pid }] });
    await expect.poll(() => status().generations.find((generation) => generation.id === first?.id)?.exit?.reason, { timeout: 10_000 }).toBe('drained');
    expect(systemctl('reload', UNIT)).toBe(0);
    await expect.poll(() => status().generations.filter((generation) => generation.state !== 'exited').length, { timeout: 15_000 }).toBe(1);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect(report.ok).toBeGreaterThan(100);
  });

  /** Arms a crash point in the unit's supervisor (drop-in, daemon-reload); returns the marker that fires it once. */
  const armCrash = (point: string): { marker: string; disarm: () => void } => {
    const marker = '/run/hs-test/crash-marker';
    systemd.writeFile(`/run/systemd/system/${UNIT}.d/zz-crash.conf`, `[Service]\nEnvironment=HAPSUP_CRASH_AT=${point}:${marker}\n`);
    systemctl('daemon-reload');
    return {
      marker,
      disarm() {
        systemd.exec(['rm', '-f', `/run/systemd/system/${UNIT}.d/zz-crash.conf`, marker]);
        systemctl('daemon-reload');
      },
    };
  };

  /** Starts the unit on a config answering `body`, under a probe that already sees answers; returns the main pid. */
  const startServing = async (body: string): Promise<{ mainPid: string; probe: Probe }> => {
    writeConfig(httpConfig(port, body));
    expect(systemctl('start', UNIT)).toBe(0);
    const probe = startProbe();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    return { mainPid: systemd.property(UNIT, 'MainPID'), probe };
  };

  /** The unit is active again under another main process. */
  const restartedFrom = async (mainPid: string): Promise<void> => {
    await expect.poll(() => systemd.property(UNIT, 'MainPID'), { timeout: 15_000, interval: 100 }).not.toMatch(new RegExp(`^(${mainPid}|0)$`));
    await expect.poll(() => systemd.property(UNIT, 'ActiveState'), { timeout: 15_000, interval: 100 }).toBe('active');
  };

  /** Every haproxy in the namespace is a live generation of the unit's supervisor, and it settles on one. */
  const settlesManaged = async (): Promise<void> => {
    const managed = (): number[] => status().generations.filter((generation) => generation.state !== 'exited').map((generation) => generation.pid).sort();
    const running = (): number[] => haproxyInside().map((line) => Number(line.split(' ')[0])).sort();
    expect(running().every((pid) => managed().includes(pid)), `${haproxyInside().join('; ')} vs ${JSON.stringify(managed())}`).toBe(true);
    await expect.poll(() => managed().length, { timeout: 20_000 }).toBe(1);
    await expect.poll(running, { timeout: 10_000 }).toEqual(managed());
  };

  it('comes back by itself when the supervisor is killed -9 in the middle of a reload: restarted within RestartSec, the half-done generation adopted, nothing unmanaged, 0 failed requests', async () => {
    const crash = armCrash('after-spawn');
    try {
      const { mainPid, probe } = await startServing('before');
      systemd.writeFile(crash.marker, '');
      writeConfig(httpConfig(port, 'after'));
      // The supervisor dies between the spawn and the state.json write that names the new generation.
      expect(systemctl('reload', UNIT)).not.toBe(0);
      await restartedFrom(mainPid);
      expect(systemd.property(UNIT, 'NRestarts')).toBe('1');
      expect(status().lastReload).toMatchObject({ ok: true, mode: 'reload', hitless: true });
      await expect.poll(() => probe.report.bodies['after'] ?? 0, { timeout: 10_000 }).toBeGreaterThan(50);
      await settlesManaged();
      const report = await probe.stop();
      expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    } finally {
      crash.disarm();
    }
  });

  it('an upgrade whose old main process is killed -9 after it started the successor: the restarted unit makes that successor its main process, haproxy untouched', async () => {
    const crash = armCrash('handover-spawned');
    try {
      const { mainPid, probe } = await startServing('upgrade-crash');
      const active = status().generations.find((generation) => generation.state === 'active');
      systemd.writeFile(crash.marker, '');
      systemd.exec(['haproxy-supervisor', 'upgrade', '--run-dir', '/run/haproxy-supervisor'], true);
      await restartedFrom(mainPid);
      // The successor, not a third supervisor: it owns the run dir and is what systemd now watches.
      await expect.poll(() => String(status().supervisor.pid), { timeout: 10_000 }).toBe(systemd.property(UNIT, 'MainPID'));
      expect(status().generations.find((generation) => generation.state === 'active')?.pid).toBe(active?.pid);
      expect(systemctl('reload', UNIT)).toBe(0);
      await settlesManaged();
      const report = await probe.stop();
      expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    } finally {
      crash.disarm();
    }
  });

  it('upgrade hands the unit over to a new main process without touching haproxy or failing a request', async () => {
    writeConfig(httpConfig(port, 'upgrade'));
    expect(systemctl('start', UNIT)).toBe(0);
    const mainPid = systemd.property(UNIT, 'MainPID');
    const active = status().generations.find((generation) => generation.state === 'active');
    const probe = startProbe();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    expect(cli(['upgrade'])).toContain('handed over');
    await expect.poll(() => systemd.property(UNIT, 'MainPID'), { timeout: 10_000, interval: 100 }).not.toBe(mainPid);
    expect(systemd.property(UNIT, 'ActiveState')).toBe('active');
    expect(String(status().supervisor.pid)).toBe(systemd.property(UNIT, 'MainPID'));
    expect(status().generations.find((generation) => generation.state === 'active')?.pid).toBe(active?.pid);
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(probe.report.ok + 100);
    expect(systemctl('reload', UNIT)).toBe(0);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
  });

  it('leaves nothing running after systemctl stop, even when the supervisor is killed -9 during the stop', async () => {
    writeConfig(tcpProxyConfig(port, await backend.start()));
    expect(systemctl('start', UNIT)).toBe(0);
    backend.track(connect(port, '127.0.0.1'));
    await expect.poll(() => backend.accepted.length, { timeout: 5000 }).toBe(1);
    const mainPid = systemd.property(UNIT, 'MainPID');
    expect(systemctl('stop', '--no-block', UNIT)).toBe(0);
    // The held connection keeps the generation draining (DRAIN_TIMEOUT 5s): the supervisor is mid-stop.
    await expect.poll(() => status().supervisor.state, { timeout: 10_000, interval: 50 }).toBe('stopping');
    systemd.exec(['kill', '-9', mainPid]);
    await expect.poll(() => systemd.property(UNIT, 'ActiveState'), { timeout: 30_000, interval: 100 }).toMatch(/^(inactive|failed)$/);
    expect(haproxyInside()).toEqual([]);
  });

  it("runs Debian's stock global section under the hardened unit: a low port, chroot, user haproxy, a stats socket in /run/haproxy; counts, signals and drains that user's processes", async () => {
    const lowPort = await freeLowPort();
    // What the package's tmpfiles.d makes at boot (the private namespace skips it).
    systemd.exec(['install', '-d', '-m', '2775', '-o', 'haproxy', '-g', 'haproxy', '/run/haproxy']);
    const stock = (body: string): string =>
      frontendConfig(
        lowPort,
        ['log global', 'option httplog', `http-request return status 200 content-type text/plain string "${body}"`],
        '    log /dev/log local0\n    chroot /var/lib/haproxy\n    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners\n    user haproxy\n    group haproxy',
      );
    writeConfig(stock('stock'));
    expect(systemctl('start', UNIT), journal()).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${lowPort}/`)).text()).toBe('stock');
    expect(systemd.exec(['ps', '-o', 'user=', '-C', 'haproxy']).trim().split('\n')).toEqual(['haproxy']);
    expect(systemd.exec(['stat', '-c', '%U %a', '/run/haproxy/admin.sock']).trim()).toBe('root 660');
    // haproxy's request log, sent from inside the chroot to /dev/log (bound there, as Debian's unit does).
    await expect.poll(() => systemd.exec(['journalctl', '-t', 'haproxy', '--no-pager', '-o', 'cat'], true), { timeout: 5000 }).toMatch(/ fe fe\/<NOSRV> .* "GET \/ HTTP\/1\.1"/);
    // A held connection, counted from /proc/<pid>/fd of a process of another user (CAP_SYS_PTRACE).
    const first = status().generations.find((generation) => generation.state === 'active');
    const held = connect(lowPort, '127.0.0.1');
    try {
      await expect.poll(() => status().generations.find((generation) => generation.id === first?.id)?.usage?.connections.client, { timeout: 10_000 }).toBe(1);
    } finally {
      held.destroy();
    }
    writeConfig(stock('stock-reloaded'));
    expect(systemctl('reload', UNIT), journal()).toBe(0);
    expect(await (await fetch(`http://127.0.0.1:${lowPort}/`)).text()).toBe('stock-reloaded');
    // The old generation got SIGUSR1 (CAP_KILL) and finished on its own, long before the drain deadline's signals.
    await expect.poll(() => status().generations.find((generation) => generation.id === first?.id)?.exit?.reason, { timeout: 4000 }).toBe('drained');
  });

  it('takes over a running haproxy.service (haproxy -Ws, expose-fd listeners) with no failed request; its master and worker exit', async () => {
    writeConfig(httpConfig(port, 'debian', '    stats socket /run/hs-test/admin.sock mode 660 level admin expose-fd listeners'));
    expect(systemctl('start', 'haproxy-debian.service')).toBe(0);
    const probe = startProbe();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    const old = haproxyInside();
    expect(old).toHaveLength(2); // master and worker
    systemd.writeFile(`/run/systemd/system/${UNIT}.d/zz-takeover.conf`, '[Service]\nEnvironment="EXTRA_OPTS=--no-watch --watchdog-interval 0 --takeover /run/hs-test/admin.sock"\n');
    systemctl('daemon-reload');
    try {
      expect(systemctl('start', UNIT)).toBe(0);
      expect(status().lastReload).toMatchObject({ ok: true, hitless: true });
      await expect.poll(() => systemd.property('haproxy-debian.service', 'ActiveState'), { timeout: 15_000, interval: 100 }).toMatch(/^(inactive|failed)$/);
      const okBefore = probe.report.ok;
      await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okBefore + 100);
      expect(haproxyInside()).toHaveLength(1);
      const report = await probe.stop();
      expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    } finally {
      systemd.exec(['rm', '-f', `/run/systemd/system/${UNIT}.d/zz-takeover.conf`]);
      systemctl('daemon-reload');
      systemctl('stop', 'haproxy-debian.service');
    }
  });
});

/** A port below 1024 that nothing listens on (127.0.0.1), for a test of binding low ports. */
async function freeLowPort(): Promise<number> {
  for (let port = 1023; port >= 600; port--) {
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error('no free port below 1024 on 127.0.0.1');
}
