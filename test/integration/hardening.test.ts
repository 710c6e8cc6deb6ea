import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { CLI, httpConfig, useSandbox, type CliResult, type Sandbox } from '../helpers/harness.js';
import { bodyOf } from '../helpers/http.js';
import { isAlive } from '../helpers/os-probes.js';
import { residentBytes as rssOf } from '../../src/system/processes.js';

/** VmRSS of a process in bytes (0 when gone). */
const residentBytes = (pid: number): number => rssOf(pid) ?? 0;

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

const isRoot = process.getuid?.() === 0;

/** `run` expected to refuse: resolves with its exit code and output (bounded in time). */
async function runRefused(runDir: string, extra: string[] = []): Promise<CliResult> {
  const result = await execa('node', [CLI, 'run', '-f', sandbox.config, '--run-dir', runDir, '--no-watch', '--log-level', 'silent', ...extra], { reject: false, timeout: 20_000 });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const modeOf = (file: string): string => (statSync(file).mode & 0o7777).toString(8);

describe('the run dir', () => {
  it('never writes through links planted at the old predictable temp names or at state.json itself', async () => {
    sandbox.writeConfig(httpConfig(port, 'links'));
    await sandbox.run();
    const victim = path.join(sandbox.dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const daemonPid = (await sandbox.status()).supervisor.pid;
    for (let counter = 0; counter < 300; counter++) symlinkSync(victim, path.join(sandbox.runDir, `.state.json.${daemonPid}.${counter}.tmp`));
    const state = path.join(sandbox.runDir, 'state.json');
    rmSync(state);
    symlinkSync(victim, state);
    for (let round = 0; round < 3; round++) expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(state).isFile()).toBe(true);
    expect(JSON.parse(readFileSync(state, 'utf8'))).toMatchObject({ version: 1 });
  });

  it('creates every file private to its user: dir 0700, files and sockets 0600', async () => {
    sandbox.writeConfig(httpConfig(port, 'modes'));
    const started = await execa('node', [CLI, 'start', '-f', sandbox.config, '--run-dir', sandbox.runDir, '--no-watch'], { reject: false, env: { HAPROXY_SUPERVISOR_LOG_LEVEL: 'warn' } });
    expect(started.exitCode, String(started.stderr)).toBe(0);
    try {
      const active = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
      await sandbox.cli(['history']); // the history is written off the reload's path: this waits for it
      const run = (name: string): string => path.join(sandbox.runDir, name);
      expect(modeOf(sandbox.runDir)).toBe('700');
      const files = ['supervisor.pid', 'state.json', 'supervisor.cfg', 'supervisor.log', 'control.sock', 'history.jsonl', 'last-config.json', 'keeper.py', 'keeper.sock'];
      expect(Object.fromEntries(files.map((name) => [name, modeOf(run(name))]))).toEqual(Object.fromEntries(files.map((name) => [name, '600'])));
      expect(modeOf(run('gen'))).toBe('700');
      expect(modeOf(run(`gen/${active?.id}.sock`))).toBe('600');
      expect(readdirSync(sandbox.runDir).sort()).toEqual(['control.sock', 'gen', 'history.jsonl', 'keeper.py', 'keeper.sock', 'last-config.json', 'state.json', 'supervisor.cfg', 'supervisor.log', 'supervisor.pid']);
    } finally {
      expect((await sandbox.cli(['stop'])).exitCode).toBe(0);
    }
  });

  it('with --socket-group, lets that group read (dir 0750, state and pidfile 0640) and use the socket (0660)', async () => {
    sandbox.writeConfig(httpConfig(port, 'group'));
    await sandbox.run(['--socket-group', String(process.getgid?.() ?? 0)]);
    const run = (name: string): string => path.join(sandbox.runDir, name);
    expect([modeOf(sandbox.runDir), modeOf(run('state.json')), modeOf(run('supervisor.pid')), modeOf(run('control.sock')), modeOf(run('supervisor.cfg'))]).toEqual([
      '750', '640', '640', '660', '600',
    ]);
  });

  it('refuses a world-writable run dir, and a symlink to one, with the chmod that fixes it, creating nothing', async () => {
    sandbox.writeConfig(httpConfig(port, 'unsafe'));
    mkdirSync(sandbox.runDir);
    chmodSync(sandbox.runDir, 0o777);
    const refused = await runRefused(sandbox.runDir);
    expect(refused.exitCode).toBe(14);
    expect(refused.stderr).toContain(`Refusing to use ${sandbox.runDir} as the run dir: it is writable by its group and others (mode 0777)`);
    expect(refused.stderr).toContain(`Fix: chmod 700 ${sandbox.runDir}`);
    expect(readdirSync(sandbox.runDir)).toEqual([]);
    const link = path.join(sandbox.dir, 'link');
    symlinkSync(sandbox.runDir, link);
    const viaLink = await runRefused(link);
    expect(viaLink.exitCode).toBe(14);
    expect(viaLink.stderr).toContain(`${link} (which resolves to ${sandbox.runDir})`);
    expect(sandbox.haproxyPids()).toEqual([]);
  });

  it('refuses a run dir reached through a symlink in a directory others may write without the sticky bit (exit 14); one in a private directory serves', async () => {
    sandbox.writeConfig(httpConfig(port, 'link'));
    mkdirSync(sandbox.runDir, { mode: 0o700 });
    const shared = path.join(sandbox.dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const replaceable = path.join(shared, 'run');
    symlinkSync(sandbox.runDir, replaceable);
    const refused = await runRefused(replaceable);
    expect(refused.exitCode).toBe(14);
    expect(refused.stderr).toContain(`it goes through the symlink ${replaceable} in ${shared}, which is writable by its group and others without the sticky bit (mode 0777)`);
    expect(refused.stderr).toContain(`Fix: chmod go-w ${shared} (or chmod +t ${shared}), or \`--run-dir ${sandbox.runDir}\` (where it leads now)`);
    expect(readdirSync(sandbox.runDir)).toEqual([]);
    expect(sandbox.haproxyPids()).toEqual([]);
    // The same link in a directory only this user can write (like /var/run → /run in root's /var) is fine.
    chmodSync(shared, 0o700);
    sandbox.daemon = execa('node', [CLI, 'run', '-f', sandbox.config, '--run-dir', replaceable, '--no-watch', '--log-level', 'silent'], { reject: false });
    const viaLink = async (args: string[]): Promise<number> => (await execa('node', [CLI, ...args, '--run-dir', replaceable], { reject: false })).exitCode ?? -1;
    await expect.poll(() => viaLink(['status']), { timeout: 15_000, interval: 50 }).toBe(0);
    await expect.poll(() => bodyOf(port).catch(() => ''), { timeout: 15_000, interval: 50 }).toContain('link');
    expect(await viaLink(['stop'])).toBe(0);
    expect((await sandbox.daemon).exitCode).toBe(0);
  });

  it.skipIf(!isRoot)('refuses a run dir owned by another user (needs root to make one)', async () => {
    sandbox.writeConfig(httpConfig(port, 'owner'));
    mkdirSync(sandbox.runDir, { mode: 0o700 });
    chownSync(sandbox.runDir, 65534, 65534);
    const refused = await runRefused(sandbox.runDir);
    expect(refused.exitCode).toBe(14);
    expect(refused.stderr).toContain('it is owned by uid 65534, not by this user (uid 0)');
    expect(readdirSync(sandbox.runDir)).toEqual([]);
  });
});

describe('one supervisor per configuration', () => {
  it('refuses a second supervisor on the same config (exit 12, naming the first and how to stop it); --allow-shared-ports overrides', async () => {
    sandbox.writeConfig(httpConfig(port, 'first'));
    await sandbox.run();
    const first = await sandbox.status();
    const otherRunDir = path.join(sandbox.dir, 'other-run');
    const refused = await runRefused(otherRunDir);
    expect(refused.exitCode).toBe(12);
    expect(refused.stderr).toContain(`haproxy-supervisor (pid ${first.supervisor.pid}) already runs ${sandbox.config}`);
    expect(refused.stderr).toContain(`haproxy-supervisor stop --run-dir ${sandbox.runDir}`);
    expect(sandbox.haproxyPids()).toHaveLength(1);
    expect(readdirSync(otherRunDir)).not.toContain('supervisor.pid');

    const shared: ResultPromise = execa('node', [CLI, 'run', '-f', sandbox.config, '--run-dir', otherRunDir, '--no-watch', '--allow-shared-ports'], { reject: false, all: true });
    try {
      await expect.poll(async () => (await execa('node', [CLI, 'status', '--run-dir', otherRunDir], { reject: false })).exitCode, { timeout: 15_000, interval: 100 }).toBe(0);
      // status answers from the moment the control socket listens, before the first generation is spawned.
      await expect.poll(() => sandbox.haproxyPids(), { timeout: 15_000, interval: 50 }).toHaveLength(2);
    } finally {
      shared.kill('SIGTERM');
      await shared;
    }
    expect(String((await shared).all)).toContain('--allow-shared-ports: starting beside what already runs this configuration');
  });

  it('refuses to start beside a haproxy it did not start that listens on the config’s address', async () => {
    sandbox.writeConfig(httpConfig(port, 'foreign'));
    const foreign = execa('haproxy', ['-db', '-f', sandbox.config], { reject: false });
    try {
      await expect.poll(() => sandbox.haproxyPids().length, { timeout: 10_000 }).toBe(1);
      const refused = await runRefused(sandbox.runDir);
      expect(refused.exitCode).toBe(12);
      expect(refused.stderr).toContain(`haproxy (pid ${foreign.pid}), not started by a supervisor, listens on 127.0.0.1:${port}`);
      expect(isAlive(foreign.pid ?? -1)).toBe(true);
    } finally {
      foreign.kill('SIGKILL');
      await foreign;
    }
  });
});

describe('hostile control-socket clients', () => {
  /** Sends `payload` on a new connection and waits for the server to answer or close (bounded). */
  function send(payload: string | Buffer, runDir: string): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect(path.join(runDir, 'control.sock'));
      const done = (): void => {
        socket.destroy();
        resolve();
      };
      socket.setTimeout(10_000, done);
      socket.on('error', done);
      socket.on('close', done);
      socket.on('data', () => undefined);
      socket.write(payload, () => socket.end());
    });
  }

  // Cheap requests: a valid `status` would measure every generation's sockets, which is load, not hostility.
  const VALID = ['{"cmd":"ping"}', '{"cmd":"history","limit":1}', '{"cmd":"reload","mode":"sideways"}', '{"cmd":"stop","drainTimeoutMs":-1}'];

  /** Random bytes, or a valid request with a few bytes changed: what a fuzzer sends. */
  function message(index: number): string {
    if (index % 3 === 0) return Array.from({ length: 1 + (index % 200) }, () => String.fromCharCode(1 + Math.floor(Math.random() * 254))).join('').replace(/\n/g, ' ');
    const base = VALID[index % VALID.length] ?? '';
    const chars = [...base];
    for (let flip = 0; flip < 3; flip++) chars[Math.floor(Math.random() * chars.length)] = String.fromCharCode(32 + Math.floor(Math.random() * 90));
    // Never a stop: the mutations keep `"cmd":"stop"` from surviving intact with valid fields only rarely, so make sure.
    return chars.join('').replace(/"stop"/g, '"stoq"');
  }

  it('stays alive, bounded in memory and answering after 10 000 fuzzed messages, 300 parallel clients, huge lines and slow clients', async () => {
    sandbox.writeConfig(httpConfig(port, 'fuzz'));
    await sandbox.run();
    // Warm-up: every code path once (JIT, first buffers), so that `idle` is the figure of a daemon that has served.
    await send(`${Array.from({ length: 250 }, (_, index) => message(index)).join('\n')}\n`, sandbox.runDir);
    await Promise.all([...Array.from({ length: 10 }, (_, index) => send(`${message(index)}\n{"cmd":"ping"}\n`, sandbox.runDir)), send(Buffer.alloc(200 * 1024, 0x41), sandbox.runDir)]);
    const daemonPid = (await sandbox.status()).supervisor.pid;
    // Read from /proc by the test: asking the daemon (status) would allocate in the daemon being measured.
    const idleRss = residentBytes(daemonPid);
    const slow: Socket[] = [];
    try {
      for (let index = 0; index < 50; index++) {
        const socket = connect(path.join(sandbox.runDir, 'control.sock'));
        socket.on('error', () => undefined);
        socket.write('{"cmd":"sta');
        slow.push(socket);
      }
      // 10 000 messages: 40 pipelining connections × 250.
      await Promise.all(
        Array.from({ length: 40 }, (_, connection) => send(`${Array.from({ length: 250 }, (_, index) => message(connection * 250 + index)).join('\n')}\n`, sandbox.runDir)),
      );
      // 300 parallel connections (more than the cap: the rest are told `busy`).
      await Promise.all(Array.from({ length: 300 }, (_, index) => send(`${message(index)}\n{"cmd":"ping"}\n`, sandbox.runDir)));
      // 100 lines of 60 KiB to 1 MiB.
      for (let batch = 0; batch < 5; batch++) {
        await Promise.all(Array.from({ length: 20 }, () => send(Buffer.alloc(60 * 1024 + Math.floor(Math.random() * 964 * 1024), 0x41), sandbox.runDir)));
      }
      const afterRss = residentBytes(daemonPid);
      expect(isAlive(daemonPid)).toBe(true);
      const memory = (await sandbox.status()).supervisor.memory;
      expect(afterRss / idleRss, `RSS ${idleRss} → ${afterRss} bytes (then ${JSON.stringify(memory)})`).toBeLessThanOrEqual(1.2);
      expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    } finally {
      for (const socket of slow) socket.destroy();
    }
  });
});
