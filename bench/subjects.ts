import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { haproxyPids, keeperPids, killAll } from '../test/helpers/haproxy-processes.js';
import { frontendConfig } from '../test/helpers/configs.js';
import { childPids, isAlive } from '../test/helpers/os-probes.js';
import { DAEMON_NODE_FLAGS } from '../src/cli/commands/start.js';

/** Marker in every bench temp dir (processes are attributed to a run by it). */
export const BENCH_MARKER = 'hs-bench-';

/** The CLI under test. */
export const CLI = path.resolve(import.meta.dirname, '../../dist/cli/main.js');

/** The ways to run and reload haproxy that the bench compares. */
export const MODES = ['none', 'restart', 'legacy', 'init-x', 'master-worker', 'supervisor-cli', 'supervisor-hup'] as const;
export type Mode = (typeof MODES)[number];

export const MODE_LABELS: Record<Mode, string> = {
  none: 'no reloads',
  restart: 'hard restart (kill, start)',
  legacy: 'legacy reload (-sf, no -x)',
  'init-x': 'init script: -D -x -sf $(cat pidfile)',
  'master-worker': 'master-worker (-W, SIGUSR2; reloads = new workers seen)',
  'supervisor-cli': 'haproxy-supervisor reload (CLI)',
  'supervisor-hup': 'haproxy-supervisor SIGHUP',
};

/**
 * What the bench's configs may add: `idleClose`, `option idle-close-on-response` (the recommended config); `h2`, ALPN
 * offers HTTP/2; `noSystemCa`, `httpclient.ssl.verify none` (haproxy then skips loading the system CA bundle for its
 * HTTP client at every start: README, "What a reload costs").
 */
export type ConfigOptions = { idleClose?: boolean; h2?: boolean; noSystemCa?: boolean };

/** A small HTTP config answering itself, with an `expose-fd` stats socket for the raw -x mode; `tls`: HTTPS with `dir`/cert.pem. */
export function smallConfig(port: number, dir: string, extra = '', tls = false, options: ConfigOptions = {}): string {
  const global = `    stats socket ${dir}/admin.sock mode 600 level admin expose-fd listeners${options.noSystemCa === true ? '\n    httpclient.ssl.verify none' : ''}`;
  let text = `${frontendConfig(port, ['http-request return status 200 content-type text/plain string "ok"'], global)}${extra}`;
  if (options.idleClose === true) text = text.replace('defaults\n', 'defaults\n    option idle-close-on-response\n');
  const alpn = options.h2 === true ? ' alpn h2,http/1.1' : '';
  return tls ? text.replace(`bind 127.0.0.1:${port}`, `bind 127.0.0.1:${port} ssl crt ${dir}/cert.pem${alpn}`) : text;
}

/** A self-signed certificate and key in one PEM (`dir`/cert.pem), made at run time (seed 001 tested over TLS). */
export function makeCertificate(dir: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/crt.pem`, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  writeFileSync(`${dir}/cert.pem`, readFileSync(`${dir}/crt.pem`, 'utf8') + readFileSync(`${dir}/key.pem`, 'utf8'));
}

/**
 * The small config over TLS with `count` certificates: `dir`/cert.pem, which a TLS subject made (makeCertificate),
 * copied (haproxy parses and loads each file as a certificate of its own, which is what makes a start with many of
 * them slow).
 */
export function manyCertificatesConfig(port: number, dir: string, count: number, options: ConfigOptions = {}): string {
  mkdirSync(path.join(dir, 'certs'), { recursive: true });
  for (let index = 1; index <= count; index++) copyFileSync(path.join(dir, 'cert.pem'), path.join(dir, 'certs', `c${index}.pem`));
  return smallConfig(port, dir, '', true, options).replace(`ssl crt ${dir}/cert.pem`, `ssl crt ${dir}/certs`);
}

/** The small config plus `backends` backends of 4 servers each (a large config, for reload latency). */
export function largeConfig(port: number, dir: string, backends: number): string {
  const lines: string[] = [];
  for (let index = 0; index < backends; index++) {
    lines.push(`backend b${index}`);
    for (let server = 1; server <= 4; server++) lines.push(`    server s${server} 127.0.0.1:${10000 + ((index * 4 + server) % 50000)}`);
  }
  return smallConfig(port, dir, `${lines.join('\n')}\n`);
}

/** The temp dirs of the subjects not stopped yet (an interrupted run removes them once their processes are gone). */
export const liveSubjectDirs = new Set<string>();

/**
 * Every mode's subject (`subjectFor`), started side by side (a supervisor's start takes a second, one with many
 * certificates several); `body` runs while they all run. Every subject made is stopped, whatever happens: a failed
 * start is reported only once every start has ended, so that nothing started is left behind.
 */
export async function withSubjects<T>(modes: readonly Mode[], subjectFor: (mode: Mode) => Promise<Subject>, body: (subjects: Subject[]) => Promise<T>): Promise<T> {
  const subjects: Subject[] = [];
  try {
    for (const mode of modes) subjects.push(await subjectFor(mode));
    const failed = (await Promise.allSettled(subjects.map((subject) => subject.start()))).find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return await body(subjects);
  } finally {
    for (const subject of subjects) await subject.stop();
  }
}

/** One way of running haproxy, in its own temp dir. */
export class Subject {
  readonly mode: Mode;
  readonly port: number;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), BENCH_MARKER));
  readonly config = path.join(this.dir, 'haproxy.cfg');
  readonly pidfile = path.join(this.dir, 'haproxy.pid');
  readonly socket = path.join(this.dir, 'admin.sock');
  readonly runDir = path.join(this.dir, 'run');
  #child: ChildProcess | undefined;
  #firstReloadId = 0;
  #workersSeen: number | undefined;
  triggered = 0;
  succeeded = 0;

  /** HTTPS (self-signed) instead of HTTP. */
  readonly tls: boolean;

  /** `configText`: the config, or a function of the subject's dir (default: the small config). */
  constructor(mode: Mode, port: number, configText?: string | ((dir: string) => string), tls = false) {
    this.mode = mode;
    this.port = port;
    this.tls = tls;
    liveSubjectDirs.add(this.dir);
    if (tls) makeCertificate(this.dir);
    const text = typeof configText === 'function' ? configText(this.dir) : configText;
    writeFileSync(this.config, text ?? smallConfig(port, this.dir, '', tls));
  }

  /** Starts haproxy the way this mode does; resolves once it answers. */
  async start(): Promise<void> {
    if (this.mode === 'master-worker') {
      this.#child = spawn('haproxy', ['-W', '-db', '-f', this.config], { stdio: 'ignore', detached: true });
    } else if (this.mode.startsWith('supervisor')) {
      // As shipped: the default log level (info, five lines per reload), written to /dev/null here.
      this.#child = spawn('node', [...DAEMON_NODE_FLAGS, CLI, 'run', '-f', this.config, '--run-dir', this.runDir], { stdio: 'ignore', detached: true });
      // Up once its start is recorded as reload 1 (status answers before that); reloads are counted from there on.
      await this.#until(async () => (await this.lastReloadId()) > 0);
      this.#firstReloadId = await this.lastReloadId();
    } else {
      execFileSync('haproxy', ['-D', '-f', this.config, '-p', this.pidfile]);
    }
    await this.#until(() => Promise.resolve(this.#answers()));
  }

  /** One reload (or restart) the way this mode does it; true when it reported success. */
  async trigger(): Promise<boolean> {
    this.triggered++;
    let ok = true;
    switch (this.mode) {
      case 'none':
        return true;
      case 'restart':
        ok = await this.#restart();
        break;
      case 'legacy':
        ok = (await execa('sh', ['-c', `haproxy -D -f ${this.config} -p ${this.pidfile} -sf $(cat ${this.pidfile})`], { reject: false })).exitCode === 0;
        break;
      case 'init-x':
        ok = (await execa('sh', ['-c', `haproxy -D -f ${this.config} -p ${this.pidfile} -x ${this.socket} -sf $(cat ${this.pidfile})`], { reject: false })).exitCode === 0;
        break;
      case 'master-worker':
        ok = this.#child?.kill('SIGUSR2') ?? false;
        break;
      case 'supervisor-cli':
        // The installed bin as ExecReload= and init scripts run it: through its shebang (sh, then node).
        ok = (await execa(CLI, ['reload', '--run-dir', this.runDir], { reject: false })).exitCode === 0;
        break;
      case 'supervisor-hup':
        ok = this.#child?.kill('SIGHUP') ?? false;
        break;
    }
    if (ok) this.succeeded++;
    return ok;
  }

  /**
   * Reloads that really happened: the supervisor's own count for SIGHUP (they coalesce); master-worker's new workers
   * seen while it reloaded under load (countWorkers), since its master drops a SIGUSR2 that arrives while it
   * re-executes itself and says nothing (at a reload every 50 ms, about half of them); else successful triggers.
   */
  async reloadsCompleted(): Promise<number> {
    if (this.mode === 'supervisor-hup') return (await this.lastReloadId()) - this.#firstReloadId;
    if (this.mode === 'master-worker' && this.#workersSeen !== undefined) return this.#workersSeen;
    return this.succeeded;
  }

  /**
   * Counts master-worker's new workers (its master's children not seen before) every 10 ms while `going()`: a worker
   * serves at least until the next reload, so none is missed. One read of the master's children list, not a /proc
   * scan: the bench process runs the clients too.
   */
  async countWorkers(going: () => boolean): Promise<void> {
    const master = this.#child?.pid;
    if (master === undefined) return;
    const seen = new Set(childPids(master));
    this.#workersSeen ??= 0;
    while (going()) {
      for (const pid of childPids(master)) {
        if (seen.has(pid)) continue;
        seen.add(pid);
        this.#workersSeen++;
      }
      await sleep(10);
    }
  }

  async lastReloadId(): Promise<number> {
    const status = await execa('node', [CLI, 'status', '--json', '--run-dir', this.runDir], { reject: false });
    const parsed = JSON.parse(String(status.stdout || '{}')) as { lastReload?: { id: number } | null };
    return parsed.lastReload?.id ?? 0;
  }

  /** haproxy processes of this subject that should not exist: all but the serving one (and master-worker's master). */
  orphans(): number {
    const expected = this.mode === 'master-worker' ? 2 : 1;
    return Math.max(0, haproxyPids(this.dir).length - expected);
  }

  haproxyCount(): number {
    return haproxyPids(this.dir).length;
  }

  /** master-worker's master (its worker is the other haproxy process). */
  get masterPid(): number | undefined {
    return this.mode === 'master-worker' ? this.#child?.pid : undefined;
  }

  /** True once a request succeeds within `timeoutMs` (polling every 5 ms). */
  async answersWithin(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (await this.#answers()) return true;
      await sleep(5);
    }
    return false;
  }

  /** The supervisor's pid (footprint), if this is a supervisor mode. */
  get supervisorPid(): number | undefined {
    return this.mode.startsWith('supervisor') ? this.#child?.pid : undefined;
  }

  /** Stops everything this subject started and removes its dir. */
  async stop(): Promise<void> {
    if (this.mode.startsWith('supervisor')) {
      await execa('node', [CLI, 'stop', '--hard', '--run-dir', this.runDir], { reject: false, timeout: 30_000 });
    }
    this.#child?.kill('SIGKILL');
    killAll([...haproxyPids(this.dir), ...keeperPids(this.dir)]);
    await this.#until(() => Promise.resolve(haproxyPids(this.dir).length === 0));
    rmSync(this.dir, { recursive: true, force: true });
    liveSubjectDirs.delete(this.dir);
  }

  async #restart(): Promise<boolean> {
    // Like an init script's restart: stop (SIGTERM, wait until gone), then start.
    let pid = 0;
    try {
      pid = Number(readFileSync(this.pidfile, 'utf8').trim());
      process.kill(pid, 'SIGTERM');
    } catch {
      // not running
    }
    await this.#until(() => Promise.resolve(pid === 0 || !isAlive(pid)));
    return (await execa('haproxy', ['-D', '-f', this.config, '-p', this.pidfile], { reject: false })).exitCode === 0;
  }

  #answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const get = this.tls ? https.get : http.get;
      const request = get({ host: '127.0.0.1', port: this.port, path: '/', agent: false, rejectUnauthorized: false, timeout: 2000 }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode === 200));
      });
      request.on('error', () => resolve(false));
      request.on('timeout', () => request.destroy());
    });
  }

  async #until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`${this.mode}: timed out waiting`);
      await sleep(20);
    }
  }
}
