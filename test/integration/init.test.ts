import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { CLI, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

const INIT = path.resolve(import.meta.dirname, '../../init/haproxy-supervisor');
const UNIT = path.resolve(import.meta.dirname, '../../systemd/haproxy-supervisor.service');
const NOTIFY_RELOAD_UNIT = path.resolve(import.meta.dirname, '../../systemd/haproxy-supervisor-notify-reload.service');

function status(target: number): Promise<number> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port: target, agent: false, timeout: 1000 }, (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      })
      .on('error', () => resolve(0));
  });
}

describe('LSB init script', () => {
  it('start, status, reload, failing reload, reload-socket, restart, stop, status, stop again — with LSB exit codes', async () => {
    const defaults = path.join(sandbox.dir, 'default');
    writeFileSync(
      defaults,
      `SUPERVISOR="node ${CLI}"\nCONFIG="${sandbox.config}"\nRUN_DIR="${sandbox.runDir}"\nLOG_FILE="${sandbox.dir}/supervisor.log"\nEXTRA_OPTS="--no-watch"\n`,
    );
    const init = async (action: string): Promise<{ exitCode: number; output: string }> => {
      const result = await execa('sh', [INIT, action], { reject: false, all: true, env: { HAPROXY_SUPERVISOR_DEFAULTS: defaults } });
      return { exitCode: result.exitCode ?? -1, output: String(result.all) };
    };
    sandbox.writeConfig(httpConfig(port, 'init'));
    try {
      expect(await init('start')).toMatchObject({ exitCode: 0 });
      expect((await init('status')).exitCode).toBe(0);
      expect(await status(port)).toBe(200);
      expect(await init('start')).toMatchObject({ exitCode: 0 }); // already running: still success (LSB)
      expect((await init('reload')).exitCode).toBe(0);

      sandbox.writeConfig(`${httpConfig(port, 'init')}    not-a-keyword\n`);
      const failed = await init('reload');
      expect(failed.exitCode).toBe(1);
      expect(failed.output).toMatch(/ALERT.*not-a-keyword/);
      expect(await status(port)).toBe(200);

      sandbox.writeConfig(httpConfig(port, 'init'));
      expect((await init('reload-socket')).exitCode).toBe(0);
      const before = (await sandbox.status()).supervisor.pid;
      expect((await init('restart')).exitCode).toBe(0);
      expect((await sandbox.status()).supervisor.pid).not.toBe(before);
      expect(await status(port)).toBe(200);
      expect((await init('check')).exitCode).toBe(0);

      expect((await init('stop')).exitCode).toBe(0);
      expect(sandbox.haproxyPids()).toEqual([]);
      expect((await init('status')).exitCode).toBe(3);
      expect((await init('stop')).exitCode).toBe(0);
      expect((await init('reload')).exitCode).toBe(7);
      expect((await init('bogus')).exitCode).toBe(2);
    } finally {
      await sandbox.cli(['stop', '--hard']);
    }
  });

  it('has an LSB header', () => {
    const text = readFileSync(INIT, 'utf8');
    expect(text).toMatch(/### BEGIN INIT INFO[\s\S]*# Provides:\s+haproxy-supervisor[\s\S]*### END INIT INFO/);
  });
});

describe('systemd', () => {
  /** systemd-analyze's version, or undefined when it is not installed. */
  const analyzeVersion = ((): number | undefined => {
    try {
      return Number(/systemd (\d+)/.exec(execFileSync('systemd-analyze', ['--version'], { encoding: 'utf8' }))?.[1]);
    } catch {
      return undefined;
    }
  })();

  it('passes systemd-analyze verify', (testContext) => {
    if (analyzeVersion === undefined) {
      testContext.skip('systemd-analyze is not installed (Debian package systemd)');
      return;
    }
    const output = execFileSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(output).toBe('');
  });

  it.for([UNIT, NOTIFY_RELOAD_UNIT])('is rated 3.0 or better by systemd-analyze security (%s)', (unit, testContext) => {
    if (analyzeVersion === undefined || analyzeVersion < 250) {
      testContext.skip('systemd-analyze security --offline needs systemd 250 or later (Debian package systemd)');
      return;
    }
    // --threshold=30: exit status non-zero when the exposure is above 3.0.
    const result = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=30', '--no-pager', unit], { encoding: 'utf8' });
    const rating = /Overall exposure level for \S+: (\d+\.\d)/.exec(result.stdout)?.[1];
    expect(rating, result.stdout + result.stderr).toBeDefined();
    expect(Number(rating), result.stdout.split('\n').filter((line) => line.startsWith('✗')).join('\n')).toBeLessThanOrEqual(3.0);
    expect(result.status, result.stderr).toBe(0);
  });

  it('notifies READY=1 only once haproxy serves, brackets reloads with RELOADING=1 + MONOTONIC_USEC and READY=1, then STOPPING=1', async () => {
    const socket = path.join(sandbox.dir, 'notify.sock');
    const receiver: ResultPromise = execa(
      'python3',
      ['-u', '-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound",flush=True)\nwhile True:\n    print(s.recv(65536).decode().replace("\\n","|"),flush=True)', socket],
      { reject: false, buffer: false },
    );
    const messages: string[] = [];
    receiver.stdout?.on('data', (chunk: Buffer) => messages.push(...chunk.toString().split('\n').filter((line) => line !== '')));
    try {
      await expect.poll(() => existsSync(socket), { timeout: 10_000 }).toBe(true);

      // A first generation that cannot start: never READY=1.
      sandbox.writeConfig('frontend broken\n    bind 127.0.0.1:notaport\n');
      const failing = await execa('node', [CLI, 'run', '-f', sandbox.config, '--run-dir', sandbox.runDir, '--no-watch'], { reject: false, env: { NOTIFY_SOCKET: socket } });
      expect(failing.exitCode).toBe(10);
      await expect.poll(() => messages.some((message) => message.startsWith('STATUS=failed to start')), { timeout: 5000 }).toBe(true);
      expect(messages.some((message) => message.includes('READY=1'))).toBe(false);
      messages.length = 0;

      sandbox.writeConfig(httpConfig(port, 'notify'));
      await sandbox.run([], { NOTIFY_SOCKET: socket });
      await expect.poll(() => messages.some((message) => message.includes('READY=1')), { timeout: 5000 }).toBe(true);
      const ready = messages.find((message) => message.includes('READY=1'));
      expect(ready).toMatch(/READY=1\|MAINPID=\d+\|STATUS=generation \d+ active, 0 draining/);
      expect(await status(port)).toBe(200);

      expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
      await expect.poll(() => messages.filter((message) => message.includes('READY=1')).length, { timeout: 5000 }).toBe(2);
      expect((await sandbox.cli(['stop'])).exitCode).toBe(0);
      await sandbox.daemon;
      await expect.poll(() => messages.some((message) => message.startsWith('STOPPING=1')), { timeout: 5000 }).toBe(true);

      const kinds = messages.filter((message) => message !== 'bound').map((message) => message.split('|')[0]?.split('=')[0]);
      expect(kinds.filter((kind) => kind !== 'STATUS')).toEqual(['READY', 'RELOADING', 'READY', 'STOPPING']);
      const reloading = messages.find((message) => message.startsWith('RELOADING=1')) ?? '';
      const usec = Number(/MONOTONIC_USEC=(\d+)/.exec(reloading)?.[1]);
      expect(usec).toBeGreaterThan(0);
      expect(Math.abs(usec / 1e6 - Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]))).toBeLessThan(120);
    } finally {
      receiver.kill('SIGKILL');
      await receiver;
    }
  });
});
