import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Status } from '../../src/control/types.js';
import { readCgroup } from '../../src/system/proc.js';
import { freePort, frontendConfig, httpConfig } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';

/**
 * The image built from examples/container/Dockerfile (test/container/run.sh builds it), run by podman as the
 * Kubernetes example runs it: uid 10001, read-only root filesystem, no capabilities, no new privileges, the config
 * a ConfigMap-style directory, the run dir a memory volume. Host networking, so the test reaches it on loopback.
 */
const IMAGE = process.env['IMAGE'] ?? 'localhost/haproxy-supervisor:test';
const unavailable = process.env['HS_CONTAINER_UNAVAILABLE'];
const RUN_DIR = '/run/haproxy-supervisor/run';

/** A ConfigMap as the kubelet mounts it: `..<timestamp>/haproxy.cfg`, `..data` → it, `haproxy.cfg` → `..data/…`. */
class ConfigMapDir {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'hs-test-configmap-'));
  #version = 0;

  constructor(text: string) {
    chmodSync(this.dir, 0o755); // as the kubelet mounts it: readable by the pod's user
    this.#write(text);
    symlinkSync('..data/haproxy.cfg', path.join(this.dir, 'haproxy.cfg'));
  }

  /** The kubelet's update: a new timestamped directory, then `..data` swapped atomically (rename of a new link). */
  update(text: string): void {
    this.#write(text);
  }

  #write(text: string): void {
    const version = `..2026_12_01_00_00_0${this.#version++}.0000`;
    mkdirSync(path.join(this.dir, version), { mode: 0o755 });
    writeFileSync(path.join(this.dir, version, 'haproxy.cfg'), text, { mode: 0o644 });
    symlinkSync(version, path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
  }
}

/** One container of the image, started as the manifest's pod spec says. */
class Container {
  readonly name = `hs-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly metricsPort: number;
  readonly configMap: ConfigMapDir;
  /** The pod's memory emptyDir: root's, mode 1777. */
  readonly runVolume = mkdtempSync(path.join(os.tmpdir(), 'hs-test-emptydir-'));

  constructor(configMap: ConfigMapDir, metricsPort: number) {
    this.configMap = configMap;
    this.metricsPort = metricsPort;
    chmodSync(this.runVolume, 0o1777);
  }

  /** `keep`: not removed when it exits (to read its exit code). `wait`: resolve once it serves (default). */
  async start(options: { drainTimeout?: string; keep?: boolean; wait?: boolean } = {}): Promise<void> {
    const run = await execa('podman', [
      'run', '-d', ...(options.keep === true ? [] : ['--rm']), '--name', this.name, '--network=host',
      '--user', '10001:10001', '--read-only', '--read-only-tmpfs=false', '--cap-drop=ALL', '--security-opt=no-new-privileges',
      '--mount', `type=bind,src=${this.configMap.dir},dst=/etc/haproxy,ro=true`,
      // The manifest's `emptyDir: { medium: Memory }`: a tmpfs the kubelet mounts as root with tmpfs's default mode
      // 1777. (podman's own --tmpfs comes out 0700 root whatever mode it is given, so a host directory stands in.)
      '--mount', `type=bind,src=${this.runVolume},dst=/run/haproxy-supervisor`,
      IMAGE,
      '-f', '/etc/haproxy/haproxy.cfg', '--run-dir', RUN_DIR, '--drain-timeout', options.drainTimeout ?? '5s', '--kill-grace', '1s', '--metrics-listen', `127.0.0.1:${this.metricsPort}`,
    ], { reject: false });
    if (run.exitCode !== 0) throw new Error(`podman run failed: ${String(run.stderr)}`);
    if (options.wait === false) return;
    // Not expect.poll: this also runs in beforeAll.
    for (const deadline = Date.now() + 60_000; (await this.readyz()) !== 200; await sleep(200)) {
      if (Date.now() > deadline) throw new Error(`not ready within 60 s:\n${await this.logs()}`);
    }
  }

  exec(args: string[]): Promise<{ exitCode?: number; stdout: string; stderr: string }> {
    return execa('podman', ['exec', this.name, ...args], { reject: false }).then((result) => ({ exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) }));
  }

  async status(): Promise<Status> {
    const result = await this.exec(['haproxy-supervisor', 'status', '--json', '--run-dir', RUN_DIR]);
    return JSON.parse(result.stdout) as Status;
  }

  async readyz(): Promise<number> {
    try {
      return (await fetch(`http://127.0.0.1:${this.metricsPort}/readyz`, { signal: AbortSignal.timeout(1000) })).status;
    } catch {
      return 0;
    }
  }

  async logs(): Promise<string> {
    const result = await execa('podman', ['logs', this.name], { reject: false, all: true });
    return String(result.all);
  }

  /** Host pids in the container's control group. */
  async processes(): Promise<number[]> {
    const id = String((await execa('podman', ['inspect', '--format', '{{.Id}}', this.name])).stdout).trim();
    return readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number)
      .filter((pid) => readCgroup(pid)?.includes(id) === true);
  }

  /** The exit code of a stopped container started with `keep`. */
  async exitCode(): Promise<number> {
    return Number((await execa('podman', ['inspect', '--format', '{{.State.ExitCode}}', this.name])).stdout);
  }

  async remove(): Promise<void> {
    await execa('podman', ['rm', '-f', '-t', '0', this.name], { reject: false });
    rmSync(this.runVolume, { recursive: true, force: true });
  }
}

describe.skipIf(unavailable !== undefined)(`the container image under podman${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  describe('serving', () => {
    let port = 0;
    let container: Container;
    beforeAll(async () => {
      port = await freePort();
      const configMap = new ConfigMapDir(httpConfig(port, 'one'));
      cleanups.push(() => rmSync(configMap.dir, { recursive: true, force: true }));
      container = new Container(configMap, await freePort());
      await container.start();
    });
    afterAll(async () => {
      await container.remove();
    });

    it('runs tini as PID 1 and the supervisor as uid 10001 with no capabilities, on a read-only root filesystem; /readyz 200', async () => {
      expect((await container.exec(['cat', '/proc/1/comm'])).stdout.trim()).toBe('tini');
      const supervisor = (await container.status()).supervisor.pid;
      const proc = (await container.exec(['cat', `/proc/${supervisor}/status`])).stdout;
      expect(/^Uid:\s+(\d+)/m.exec(proc)?.[1]).toBe('10001');
      expect(/^CapEff:\s+(\w+)/m.exec(proc)?.[1]).toBe('0000000000000000');
      expect(/^NoNewPrivs:\s+(\d)/m.exec(proc)?.[1]).toBe('1');
      expect((await container.exec(['touch', '/usr/local/probe'])).stderr).toMatch(/Read-only file system/);
      expect(await container.readyz()).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('one');
    });

    it('reloads hitlessly when the ConfigMap is updated (the kubelet swaps ..data) under load: 0 failed', async () => {
      const probe = new Probe(port, { concurrency: 10, maxRequests: 100_000, maxMs: 60_000 }).start();
      try {
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
        const before = (await container.status()).lastReload?.id ?? 0;
        container.configMap.update(httpConfig(port, 'two'));
        await expect.poll(() => probe.report.bodies['two'] ?? 0, { timeout: 20_000 }).toBeGreaterThan(50);
        expect((await container.status()).lastReload).toMatchObject({ id: before + 1, ok: true, hitless: true, triggers: ['watch'] });
      } finally {
        const report = await probe.stop();
        expect(report.failed, JSON.stringify(report.failures)).toBe(0);
      }
    });

    it('serves again after kill -9 of the active haproxy inside the container, and /readyz and /metrics say so', async () => {
      const active = (await container.status()).generations.find((generation) => generation.state === 'active');
      expect(active).toBeDefined();
      const probe = new Probe(port, { concurrency: 10, maxRequests: 100_000, maxMs: 60_000 }).start();
      try {
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
        expect((await container.exec(['sh', '-c', `kill -9 ${String(active?.pid)}`])).exitCode).toBe(0);
        await expect
          .poll(async () => (await container.status()).generations.find((generation) => generation.state === 'active')?.pid, { timeout: 20_000 })
          .not.toBe(active?.pid);
        expect((await container.status()).generations.find((generation) => generation.id === active?.id)?.exit).toMatchObject({ signal: 'SIGKILL' });
        const okAfter = probe.report.ok;
        await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(okAfter + 100);
        expect(await container.readyz()).toBe(200);
        const metrics = await (await fetch(`http://127.0.0.1:${container.metricsPort}/metrics`)).text();
        expect(metrics).toMatch(/^haproxy_supervisor_crash_respawns_total 1$/m);
      } finally {
        const report = await probe.stop();
        // The listeners outlive the killed haproxy (the socket keeper): nothing is refused, only requests in flight fail.
        expect(report.failures['ECONNREFUSED'] ?? 0, JSON.stringify(report.failures)).toBe(0);
      }
    });
  });

  it('refuses (exit 14, with the fix) a run dir inside a disk emptyDir, which the kubelet makes 0777 without the sticky bit', async () => {
    const configMap = new ConfigMapDir(httpConfig(await freePort(), 'disk'));
    cleanups.push(() => rmSync(configMap.dir, { recursive: true, force: true }));
    const container = new Container(configMap, await freePort());
    cleanups.push(() => container.remove());
    chmodSync(container.runVolume, 0o777);
    await container.start({ keep: true, wait: false });
    await expect.poll(async () => String((await execa('podman', ['inspect', '--format', '{{.State.Status}}', container.name])).stdout), { timeout: 30_000 }).toBe('exited');
    expect(await container.exitCode()).toBe(14);
    expect(await container.logs()).toMatch(/writable by its group and others without the sticky bit[\s\S]*chmod \+t/);
  });

  it('podman stop (SIGTERM, SIGKILL after the grace period) drains within the grace period: every request in flight is answered, exit 0, nothing left', async () => {
    // A backend that answers after 2 s: 20 requests are in flight when the stop comes.
    const held: http.ServerResponse[] = [];
    const backend = http.createServer((_request, response) => {
      held.push(response);
      setTimeout(() => response.end('slow'), 2000);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => backend.close(() => resolve())));
    const backendPort = (backend.address() as { port: number }).port;
    const port = await freePort();
    const config = frontendConfig(port, ['default_backend app'], '').replace('defaults\n', 'defaults\n    option idle-close-on-response\n') + `backend app\n    server s1 127.0.0.1:${backendPort}\n`;
    const configMap = new ConfigMapDir(config);
    cleanups.push(() => rmSync(configMap.dir, { recursive: true, force: true }));
    const container = new Container(configMap, await freePort());
    cleanups.push(() => container.remove());
    await container.start({ drainTimeout: '20s', keep: true });

    const answers = Array.from({ length: 20 }, () =>
      fetch(`http://127.0.0.1:${port}/`).then(
        async (response) => `${response.status} ${await response.text()}`,
        (error: unknown) => String(error),
      ),
    );
    await expect.poll(() => held.length, { timeout: 10_000 }).toBe(20);
    const stop = await execa('podman', ['stop', '-t', '10', container.name], { reject: false });
    expect(stop.exitCode, String(stop.stderr)).toBe(0);
    expect(await Promise.all(answers)).toEqual(Array.from({ length: 20 }, () => '200 slow'));
    // Drained and exited 0 by itself: podman's SIGKILL at the end of the grace period would have made it 137.
    expect(await container.exitCode(), await container.logs()).toBe(0);
    // No process of the container's control group is left on the host.
    expect(await container.processes()).toEqual([]);
  });
});
