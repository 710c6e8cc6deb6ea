import { mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { execa, execaSync, type ResultPromise } from 'execa';
import { parseAllDocuments } from 'yaml';
import { parseDuration } from '../../src/config/duration.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, freePort, httpConfig, Sandbox } from '../helpers/harness.js';
import { tcpProxyConfig, useHoldingBackend } from '../helpers/tcp-backend.js';
import { bodyOf as body, statusOf as httpStatus } from '../helpers/http.js';
import { SUPERVISOR_COMM } from '../../src/system/pidfile.js';
import { readComm, readState } from '../../src/system/proc.js';
import { parentPid } from '../../src/system/processes.js';

/** Why the daemon cannot run as PID 1 of a fresh PID namespace here, or undefined when it can. */
function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for unshare --pid';
  for (const tool of ['unshare', 'nsenter', 'tini']) {
    if (execaSync('sh', ['-c', `command -v ${tool}`], { reject: false }).exitCode !== 0) return `${tool} is not installed`;
  }
  return undefined;
}

/** Host pids whose parent is `pid`, with their comm. */
function childrenOf(pid: number): Array<{ pid: number; comm: string | undefined }> {
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number);
  return pids.filter((candidate) => parentPid(candidate) === pid).map((child) => ({ pid: child, comm: readComm(child) }));
}

/** The pid `pid` has in the innermost PID namespace it belongs to (/proc/<pid>/status NSpid, last field). */
function namespacePid(pid: number): number | undefined {
  const line = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return line === undefined ? undefined : Number(line.trim().split(/\s+/).at(-1));
}

/**
 * The installed bin (dist/cli/main.js, run through its shebang) as the first process of a fresh PID and mount
 * namespace, as a container runtime starts an entrypoint: `unshare --pid --fork --mount-proc`. --kill-child: if
 * unshare is killed, the namespace's PID 1 gets SIGKILL and the kernel ends everything in it.
 */
class Namespace {
  readonly unshare: ResultPromise;
  output = '';

  constructor(args: string[], env: Record<string, string> = {}) {
    this.unshare = execa('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', CLI, ...args], { reject: false, all: true, buffer: false, env });
    this.unshare.all?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  /** Host pid of the namespace's PID 1 (the process unshare forked). */
  init(): number {
    const pid = this.unshare.pid ?? -1;
    const [init] = childrenOf(pid);
    if (init === undefined) throw new Error('the namespace has no PID 1 yet');
    return init.pid;
  }

  /** Kills the namespace (SIGKILL to its PID 1: the kernel ends every process in it) and waits for unshare. */
  async end(): Promise<void> {
    if (this.unshare.exitCode === null) {
      try {
        process.kill(this.init(), 'SIGKILL');
      } catch {
        this.unshare.kill('SIGKILL');
      }
    }
    await this.unshare;
  }
}

const reason = unavailable();

describe.skipIf(reason !== undefined)(`the daemon as a container's PID 1${reason === undefined ? '' : ` (skipped: ${reason})`}`, () => {
  let sandbox: Sandbox;
  let port: number;
  let namespace: Namespace | undefined;
  const backend = useHoldingBackend();

  beforeEach(async () => {
    sandbox = new Sandbox();
    port = await freePort();
  });
  afterEach(async () => {
    await namespace?.end();
    namespace = undefined;
    // PID 1 has exited and unshare reaped it: the kernel has ended every process of the namespace by then.
    expect(await sandbox.cleanup(), 'haproxy processes left after the namespace ended').toBe(0);
  });

  /** Starts `run` as the namespace's PID 1; resolves once its first generation serves (polled from outside). */
  async function start(extra: string[], env: Record<string, string> = {}): Promise<Namespace> {
    namespace = new Namespace(['run', '-f', sandbox.config, '--run-dir', sandbox.runDir, '--log-level', 'info', ...extra], env);
    const started = namespace;
    await expect
      .poll(async () => ((await sandbox.cli(['status', '--json'])).exitCode === 0 ? (await sandbox.status()).supervisor.state : started.unshare.exitCode), {
        timeout: 15_000,
        interval: 50,
      })
      .toBe('running');
    return started;
  }

  /** An orphan in the namespace, as `kubectl exec` leaves one: a shell's background job whose shell has exited.
   * Returns its host pid once it is reparented to the namespace's PID 1. */
  async function orphan(inside: Namespace): Promise<number> {
    const init = inside.init();
    await execa('nsenter', ['--target', String(init), '--pid', '--', 'sh', '-c', 'sleep 600 </dev/null >/dev/null 2>&1 & exit 0']);
    let pid: number | undefined;
    await expect
      .poll(() => (pid = childrenOf(init).find((child) => child.comm === 'sleep')?.pid), { timeout: 5000, interval: 20 })
      .toBeDefined();
    return pid as number;
  }

  it('puts tini in front of itself as PID 1: orphans are reaped, and a ConfigMap ..data swap reloads', async () => {
    // The layout kubelet gives a ConfigMap volume: haproxy.cfg → ..data/haproxy.cfg, ..data → a timestamped dir.
    mkdirSync(path.join(sandbox.dir, '..2026_11_30_a'));
    writeFileSync(path.join(sandbox.dir, '..2026_11_30_a', 'haproxy.cfg'), httpConfig(port, 'configmap-a'));
    symlinkSync('..2026_11_30_a', path.join(sandbox.dir, '..data'));
    symlinkSync('..data/haproxy.cfg', sandbox.config);
    const inside = await start(['--watch']);
    expect(await body(port)).toBe('configmap-a');

    const init = inside.init();
    expect(readComm(init)).toBe('tini');
    expect(namespacePid(init)).toBe(1);
    const daemon = childrenOf(init).find((child) => child.comm === SUPERVISOR_COMM);
    expect(daemon, 'the daemon runs as tini\'s child').toBeDefined();
    expect((await sandbox.status()).supervisor.pid).toBe(namespacePid(daemon?.pid ?? -1));

    const sleeper = await orphan(inside);
    process.kill(sleeper, 'SIGKILL'); // our own process, just found among PID 1's children
    await expect.poll(() => readState(sleeper), { timeout: 5000, interval: 20 }).toBeUndefined(); // reaped, not a zombie

    mkdirSync(path.join(sandbox.dir, '..2026_11_30_b'));
    writeFileSync(path.join(sandbox.dir, '..2026_11_30_b', 'haproxy.cfg'), httpConfig(port, 'configmap-b'));
    symlinkSync('..2026_11_30_b', path.join(sandbox.dir, '..data_tmp'));
    renameSync(path.join(sandbox.dir, '..data_tmp'), path.join(sandbox.dir, '..data'));
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('configmap-b');
    const reloads = (await sandbox.status()).reloads.filter((reload) => reload.triggers.includes('watch'));
    expect(reloads.map((reload) => reload.ok)).toEqual([true]);

    const upgrade = await sandbox.cli(['upgrade']);
    expect(upgrade.exitCode, 'upgrade would end the container').not.toBe(0);
    expect(upgrade.stderr).toContain('main process of a container');
  });

  it('without tini (HAPROXY_SUPERVISOR_NO_INIT=1) it is PID 1 itself, says orphans stay zombies, and they do', async () => {
    sandbox.writeConfig(httpConfig(port, 'no-init'));
    const inside = await start(['--no-watch'], { HAPROXY_SUPERVISOR_NO_INIT: '1' });
    const init = inside.init();
    expect(readComm(init)).toBe(SUPERVISOR_COMM);
    expect((await sandbox.status()).supervisor.pid).toBe(1);
    expect(inside.output).toContain('running as PID 1 without an init');

    const sleeper = await orphan(inside);
    process.kill(sleeper, 'SIGKILL');
    await expect.poll(() => readState(sleeper), { timeout: 5000, interval: 20 }).toBe('Z');
  });

  it('on SIGTERM to PID 1 (what the kubelet sends): not ready, open connections drain, and it exits within drain-timeout + kill-grace', async () => {
    const backendPort = await backend.start();
    const metricsPort = await freePort();
    sandbox.writeConfig(tcpProxyConfig(port, backendPort));
    const inside = await start(['--no-watch', '--drain-timeout', '3s', '--kill-grace', '500ms', '--metrics-listen', `127.0.0.1:${metricsPort}`]);
    expect(await httpStatus(`http://127.0.0.1:${metricsPort}/readyz`)).toBe(200);

    const client: Socket = backend.track(connect(port, '127.0.0.1'));
    let clientClosedAt: number | undefined;
    client.on('close', () => (clientClosedAt = Date.now()));
    await expect.poll(() => backend.accepted.length, { timeout: 5000 }).toBe(1);

    const sentAt = Date.now();
    process.kill(inside.init(), 'SIGTERM'); // tini forwards it to the daemon
    await expect.poll(() => inside.output, { timeout: 5000, interval: 20 }).toContain('stopping');
    expect(await httpStatus(`http://127.0.0.1:${metricsPort}/readyz`)).toBe(503);

    // Draining: the held connection still carries data both ways.
    const received: string[] = [];
    backend.accepted[0]?.on('data', (chunk: Buffer) => received.push(chunk.toString()));
    client.write('still-here');
    await expect.poll(() => received.join(''), { timeout: 2000, interval: 20 }).toBe('still-here');
    expect(clientClosedAt).toBeUndefined();

    const result = await inside.unshare;
    const elapsed = Date.now() - sentAt;
    expect(result.exitCode, inside.output).toBe(0);
    expect(elapsed, 'it waited for the drain deadline').toBeGreaterThanOrEqual(2900);
    expect(elapsed, 'and ended within drain-timeout + kill-grace (with start-up slack)').toBeLessThan(3000 + 500 + 2000);
    expect(inside.output).toContain('every generation exited');
    await expect.poll(() => clientClosedAt, { timeout: 2000 }).toBeDefined();
  });
});

/** The Deployment's pod spec and container, as far as the test reads them. */
type PodSpec = {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  volumes: Array<{ name: string; configMap?: { name: string }; emptyDir?: object }>;
  containers: Array<{
    args: string[];
    readinessProbe: { httpGet: { path: string; port: number } };
    livenessProbe: { httpGet: { path: string; port: number } };
    lifecycle: { preStop: { exec: { command: string[] } } };
    securityContext: { readOnlyRootFilesystem: boolean };
    volumeMounts: Array<{ name: string; mountPath: string; subPath?: string }>;
  }>;
};

describe('examples/container', () => {
  const dir = path.resolve(import.meta.dirname, '../../examples/container');
  const read = (file: string): string => readFileSync(path.join(dir, file), 'utf8');
  const documents = parseAllDocuments(read('kubernetes.yaml')).map((document) => document.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: { template: { spec: PodSpec } } });
  const configMap = documents.find((document) => document.kind === 'ConfigMap');
  const pod = documents.find((document) => document.kind === 'Deployment')?.spec?.template.spec as PodSpec;
  const container = pod.containers[0] as PodSpec['containers'][number];
  const dockerfile = read('Dockerfile');
  const option = (args: string[], name: string): string => args[args.indexOf(name) + 1] ?? '';

  it('ships one haproxy.cfg, and haproxy accepts it with the manifest\'s own flags (check)', async () => {
    expect(configMap?.data?.['haproxy.cfg']).toBe(read('haproxy.cfg'));
    const args = container.args.map((arg) => (arg === '/etc/haproxy/haproxy.cfg' ? path.join(dir, 'haproxy.cfg') : arg));
    const scratch = new Sandbox();
    const check = await execa('node', [CLI, 'check', ...args.map((arg, index) => (args[index - 1] === '--run-dir' ? scratch.runDir : arg))], { reject: false });
    await scratch.cleanup();
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    // Only what a test machine cannot have: the cluster's DNS name and the state file of a first start.
    const warnings = check.stdout.split('\n').filter((line) => line.startsWith('WARN'));
    expect(warnings.filter((line) => !/could not resolve address|Can't open global server state file/.test(line))).toEqual([]);
  });

  it('runs the image\'s command: the Dockerfile\'s CMD is the manifest\'s args, ENTRYPOINT the bin, as the pod\'s user', () => {
    const instruction = (name: string): unknown => JSON.parse(new RegExp(`^${name} (.*)$`, 'm').exec(dockerfile)?.[1] ?? 'null');
    expect(instruction('ENTRYPOINT')).toEqual(['haproxy-supervisor', 'run']);
    expect(instruction('CMD')).toEqual(container.args);
    expect(dockerfile).toMatch(/apt-get install -y --no-install-recommends haproxy tini python3-minimal/);
    expect(/^USER (\d+):\d+$/m.exec(dockerfile)?.[1]).toBe(String(pod.securityContext.runAsUser));
    expect(pod.securityContext.runAsNonRoot).toBe(true);
  });

  it('gives the drain its time: grace period >= preStop + --drain-timeout + --kill-grace', () => {
    const [sleep, seconds] = container.lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    const needMs = Number(seconds) * 1000 + (parseDuration(option(container.args, '--drain-timeout')) ?? NaN) + (parseDuration(option(container.args, '--kill-grace')) ?? NaN);
    expect(needMs).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(needMs);
    expect(read('haproxy.cfg')).toContain(`hard-stop-after ${option(container.args, '--drain-timeout')}`);
  });

  it('probes the supervisor where it listens, mounts the ConfigMap as a directory (..data swaps) and the run dir writable', () => {
    const metricsPort = Number(option(container.args, '--metrics-listen').split(':').at(-1));
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: metricsPort });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: metricsPort });
    const mountOf = (volume: (v: PodSpec['volumes'][number]) => boolean) => {
      const name = pod.volumes.find(volume)?.name;
      return container.volumeMounts.find((mount) => mount.name === name);
    };
    const config = mountOf((volume) => volume.configMap?.name === configMap?.metadata.name);
    expect(config?.mountPath).toBe(path.dirname(option(container.args, '-f')));
    expect(config?.subPath, 'a subPath mount never sees ConfigMap updates').toBeUndefined();
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    const run = mountOf((volume) => volume.emptyDir !== undefined);
    expect(path.dirname(option(container.args, '--run-dir'))).toBe(run?.mountPath);
    expect(read('haproxy.cfg')).toMatch(new RegExp(`server-state-file ${run?.mountPath ?? '-'}/`));
  });
});
