import { readFileSync, statSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import { CLI, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { isAlive } from '../helpers/os-probes.js';
import { tcpProxyConfig, useHoldingBackend } from '../helpers/tcp-backend.js';
import { statusOf as get } from '../helpers/http.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** Sends raw lines on the control socket; collects reply lines until `count` arrived or the socket closed. */
function rawControl(runDir: string, payload: string, count: number): Promise<{ replies: Array<{ ok: boolean; error?: { code: string } }>; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(path.join(runDir, 'control.sock'));
    let buffer = '';
    const replies: Array<{ ok: boolean; error?: { code: string } }> = [];
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
        replies.push(JSON.parse(buffer.slice(0, newline)) as { ok: boolean });
        buffer = buffer.slice(newline + 1);
      }
      if (replies.length >= count) {
        socket.destroy();
        resolve({ replies, closed: false });
      }
    });
    socket.on('close', () => resolve({ replies, closed: true }));
  });
}

describe('deadlines', () => {
  const backend = useHoldingBackend();

  it('terminates a draining generation held open by a connection at --drain-timeout and records why', async () => {
    sandbox.writeConfig(tcpProxyConfig(port, await backend.start()));
    await sandbox.run(['--drain-timeout', '1500ms', '--kill-grace', '1s']);
    const client = backend.track(connect(port, '127.0.0.1'));
    let clientClosed = false;
    client.on('close', () => (clientClosed = true));
    await expect.poll(() => backend.accepted.length, { timeout: 5000 }).toBe(1);
    const old = (await sandbox.status()).generations.find((g) => g.state === 'active');

    const reload = await sandbox.cli(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    const draining = (await sandbox.status()).generations.find((g) => g.id === old?.id);
    expect(draining?.state).toBe('draining');
    expect(draining?.deadline).toBeDefined();
    expect(isAlive(old?.pid ?? -1)).toBe(true);

    await expect.poll(async () => (await sandbox.status()).generations.find((g) => g.id === old?.id)?.exit?.reason, { timeout: 10_000 }).toBe('deadline-term');
    const exited = (await sandbox.status()).generations.find((g) => g.id === old?.id);
    expect(exited?.exit?.signal).toBe('SIGTERM');
    expect(Date.parse(exited?.exit ? (exited as { exit: { at?: string } }).exit.at ?? '' : '')).toBeGreaterThanOrEqual(Date.parse(draining?.deadline ?? ''));
    expect(isAlive(old?.pid ?? -1)).toBe(false);
    await expect.poll(() => clientClosed, { timeout: 5000 }).toBe(true);
  });
});

describe('crash recovery', () => {
  it('serves again within 1 s after kill -9 of the active haproxy, and records the crash', async () => {
    sandbox.writeConfig(httpConfig(port, 'alive'));
    await sandbox.run();
    const active = (await sandbox.status()).generations.find((g) => g.state === 'active');
    const killedAt = performance.now();
    process.kill(active?.pid ?? -1, 'SIGKILL');
    await expect.poll(() => get(`http://127.0.0.1:${port}/`), { timeout: 1000, interval: 10 }).toBe(200);
    const recoveredMs = performance.now() - killedAt;
    expect(recoveredMs).toBeLessThan(1000);
    const status = await sandbox.status();
    expect(status.generations.find((g) => g.id === active?.id)?.exit).toMatchObject({ reason: 'crashed', signal: 'SIGKILL' });
    expect(status.generations.find((g) => g.state === 'active')?.pid).not.toBe(active?.pid);
    expect(status.crashLoop.consecutiveCrashes).toBe(1);
  });
});

describe('run dir ownership and the control socket', () => {
  it('refuses a second supervisor on the same run dir and touches nothing', async () => {
    sandbox.writeConfig(httpConfig(port, 'one'));
    await sandbox.run();
    const stateFile = path.join(sandbox.runDir, 'state.json');
    const stateBefore = readFileSync(stateFile, 'utf8');
    const mtimeBefore = statSync(stateFile).mtimeMs;
    const pidsBefore = sandbox.haproxyPids();

    const second = await execa('node', [CLI, 'run', '-f', sandbox.config, '--run-dir', sandbox.runDir], { reject: false, timeout: 20_000 });
    expect(second.exitCode).toBe(12);
    expect(String(second.stderr)).toContain(`Another haproxy-supervisor (pid ${sandbox.daemon?.pid})`);
    expect(readFileSync(stateFile, 'utf8')).toBe(stateBefore);
    expect(statSync(stateFile).mtimeMs).toBe(mtimeBefore);
    expect(readFileSync(path.join(sandbox.runDir, 'supervisor.pid'), 'utf8').trim()).toBe(String(sandbox.daemon?.pid));
    expect(sandbox.haproxyPids()).toEqual(pidsBefore);
    expect((await sandbox.cli(['status'])).exitCode).toBe(0);
  });

  it('answers garbage, unknown and oversized requests with errors and keeps working', async () => {
    sandbox.writeConfig(httpConfig(port, 'ctl'));
    await sandbox.run();
    const silent = connect(path.join(sandbox.runDir, 'control.sock')); // connects and never speaks
    silent.on('error', () => undefined);

    const garbage = await rawControl(sandbox.runDir, 'hello\n[1,2]\n{"cmd":"explode"}\n{"cmd":"reload","mode":"sideways"}\n{"cmd":"ping"}\n', 5);
    expect(garbage.replies.map((reply) => reply.error?.code ?? 'ok')).toEqual(['bad-request', 'bad-request', 'unknown-command', 'bad-request', 'ok']);

    const huge = await rawControl(sandbox.runDir, `{"cmd":"status","pad":"${'x'.repeat(200_000)}`, 1);
    expect(huge.replies[0]?.error?.code).toBe('too-large');

    const status = await sandbox.cli(['status', '--json']);
    expect(status.exitCode).toBe(0);
    const reload = await sandbox.cli(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    silent.destroy();
    expect(sandbox.output).not.toMatch(/"level":(50|60).*(uncaught|unhandled)/i);
  });
});

describe('stop and start', () => {
  it('stop drains every generation, removes the pidfile and socket; status then says not running (3)', async () => {
    sandbox.writeConfig(httpConfig(port, 'bye'));
    await sandbox.run();
    const stop = await sandbox.cli(['stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const daemon = await sandbox.daemon;
    expect(daemon?.exitCode).toBe(0);
    expect(sandbox.haproxyPids()).toEqual([]);
    expect(existsSync(path.join(sandbox.runDir, 'supervisor.pid'))).toBe(false);
    expect(existsSync(path.join(sandbox.runDir, 'control.sock'))).toBe(false);
    expect((await sandbox.cli(['status'])).exitCode).toBe(3);
    expect((await sandbox.cli(['stop'])).exitCode).toBe(0);
    const state = JSON.parse(readFileSync(path.join(sandbox.runDir, 'state.json'), 'utf8')) as { generations: Array<{ state: string; exit?: { reason: string } }> };
    expect(state.generations.every((g) => g.state === 'exited' && g.exit?.reason === 'drained')).toBe(true);
  });

  it('start returns once haproxy serves and leaves a detached daemon; start with a broken config fails with exit 10', async () => {
    sandbox.writeConfig(httpConfig(port, 'detached'));
    const started = await sandbox.cli(['start', '-f', sandbox.config]);
    try {
      expect(started.exitCode, started.stderr).toBe(0);
      expect(await get(`http://127.0.0.1:${port}/`)).toBe(200);
      const again = await sandbox.cli(['start', '-f', sandbox.config]);
      expect(again.exitCode).toBe(12);
    } finally {
      expect((await sandbox.cli(['stop', '--hard'])).exitCode).toBe(0);
    }
    expect(sandbox.haproxyPids()).toEqual([]);

    sandbox.writeConfig('frontend broken\n    bind 127.0.0.1:notaport\n');
    const broken = await sandbox.cli(['start', '-f', sandbox.config]);
    expect(broken.exitCode).toBe(10);
    expect(broken.stderr).toMatch(/ALERT/);
    expect((await sandbox.cli(['status'])).exitCode).toBe(3);
  });

  it('check accepts a config whose HTTP frontend closes idle keep-alive connections on reload (exit 0) and prints the warning with the fix; the first load warns in the result too', async () => {
    sandbox.writeConfig(httpConfig(port, 'keep-alive'));
    const checked = await sandbox.cli(['check', '-f', sandbox.config]);
    expect(checked.exitCode, checked.stdout).toBe(0);
    expect(checked.stdout).toMatch(/^WARN Keep-alive clients can fail on every reload: HTTP frontend fe \(.*haproxy\.cfg:\d+\) closes idle connections/m);
    expect(checked.stdout).toContain('fix: Add `option idle-close-on-response` to the defaults section (or to each HTTP frontend).');
    await sandbox.run();
    expect((await sandbox.status()).lastReload?.warnings.join('\n')).toContain('Keep-alive clients can fail on every reload');
    sandbox.writeConfig(httpConfig(port, 'keep-alive').replace('defaults\n', 'defaults\n    option idle-close-on-response\n'));
    const good = await sandbox.cli(['check', '-f', sandbox.config]);
    expect(good.exitCode).toBe(0);
    expect(good.stdout).not.toContain('Keep-alive clients can fail');
    expect(good.stdout).toContain('ok   Every HTTP frontend keeps idle keep-alive connections open through a reload');
  });

  it("check points at the HTTP client's CA bundle load that every start does, and haproxy accepts the optional fix", async () => {
    sandbox.writeConfig(httpConfig(port, 'ca').replace('defaults\n', 'defaults\n    option idle-close-on-response\n'));
    const checked = await sandbox.cli(['check', '-f', sandbox.config]);
    expect(checked.exitCode, checked.stdout).toBe(0);
    expect(checked.stdout).toMatch(/^ok {3}Each haproxy start \(so each reload\) loads the system's CA bundle for haproxy's internal HTTP client/m);
    expect(checked.stdout).toContain('fix: Optional: `httpclient.ssl.verify none` in the global section skips that load.');
    sandbox.writeConfig(httpConfig(port, 'ca', '    httpclient.ssl.verify none').replace('defaults\n', 'defaults\n    option idle-close-on-response\n'));
    const fixed = await sandbox.cli(['check', '-f', sandbox.config, '--json']);
    expect(fixed.exitCode, fixed.stdout).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ ok: true, haproxy: { valid: true, warnings: [] } });
    expect(fixed.stdout).not.toContain("system's CA bundle");
  });

  it('check names the haproxy version and warns, with the fix, when it is not one the supervisor is tested with', async () => {
    sandbox.writeConfig(httpConfig(port, 'version').replace('defaults\n', 'defaults\n    option idle-close-on-response\n'));
    const tested = await sandbox.cli(['check', '-f', sandbox.config, '--json']);
    const actual = /version (\S+)/.exec(String((await execa('haproxy', ['-v'])).stdout))?.[1];
    expect(JSON.parse(tested.stdout)).toMatchObject({ ok: true, haproxy: { version: actual, valid: true } });
    expect(tested.stdout).not.toContain('not a version the supervisor is tested with');
    const other = await sandbox.cli(['check', '-f', sandbox.config, '--haproxy', path.resolve(import.meta.dirname, '../fixtures/haproxy-version-2.8.sh')]);
    expect(other.exitCode).toBe(0);
    expect(other.stdout).toMatch(/^WARN haproxy 2\.8\.5-1 is not a version the supervisor is tested with \(2\.6, 3\.0\)/m);
    expect(other.stdout).toContain("fix: Run Debian 12's (2.6) or 13's (3.0) haproxy");
  });

  it('versions, help and usage errors', async () => {
    const help = await execa('node', [CLI, 'reload', '--help'], { reject: false });
    expect(help.exitCode).toBe(0);
    expect(String(help.stdout)).toContain('--run-dir');
    const usage = await execa('node', [CLI, 'run', '--run-dir', sandbox.runDir], { reject: false });
    expect(usage.exitCode).toBe(2);
    const badDuration = await execa('node', [CLI, 'run', '-f', sandbox.config, '--drain-timeout', 'abc', '--run-dir', sandbox.runDir], { reject: false });
    expect(badDuration.exitCode).toBe(2);
    expect(String(badDuration.stderr)).toContain('Expected `--drain-timeout` to be a duration');
  });
});

describe('signals, environment and permissions', () => {
  it('SIGTERM stops gracefully: generations drain and the daemon exits 0', async () => {
    sandbox.writeConfig(httpConfig(port, 'term'));
    await sandbox.run();
    sandbox.daemon?.kill('SIGTERM');
    const daemon = await sandbox.daemon;
    expect(daemon?.exitCode).toBe(0);
    expect(sandbox.haproxyPids()).toEqual([]);
    expect(sandbox.output).toContain('"reason":"drained"');
  });

  it('takes options from HAPROXY_SUPERVISOR_* and opens the control socket 0600, or 0660 for --socket-group', async () => {
    sandbox.writeConfig(httpConfig(port, 'env'));
    await sandbox.run(['--socket-group', 'daemon']);
    const control = statSync(path.join(sandbox.runDir, 'control.sock'));
    expect(control.mode & 0o777).toBe(0o660);
    expect(control.gid).toBe(Number(readFileSync('/etc/group', 'utf8').match(/^daemon:[^:]*:(\d+):/m)?.[1]));
    const status = await execa('node', [CLI, 'status', '--json'], { reject: false, env: { HAPROXY_SUPERVISOR_RUN_DIR: sandbox.runDir } });
    expect(status.exitCode).toBe(0);
    expect((JSON.parse(String(status.stdout)) as { supervisor: { pid: number } }).supervisor.pid).toBe(sandbox.daemon?.pid);
    await sandbox.cli(['stop', '--hard']);
    await sandbox.daemon;
    sandbox.daemon = undefined;
    await sandbox.run();
    expect(statSync(path.join(sandbox.runDir, 'control.sock')).mode & 0o777).toBe(0o600);
  });
});
