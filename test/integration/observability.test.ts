import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { beforeEach, describe, expect, it } from 'vitest';
import type { GenerationStatus, HistoryEntry } from '../../src/control/types.js';
import { freePort, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { tcpProxyConfig, useHoldingBackend } from '../helpers/tcp-backend.js';

const RUN_FAILS = path.resolve(import.meta.dirname, '../fixtures/haproxy-run-fails.sh');

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

describe('connections per generation', () => {
  const backend = useHoldingBackend();

  it('reports the connections a draining generation still holds, client and server side, until the clients close', async () => {
    sandbox.writeConfig(tcpProxyConfig(port, await backend.start(), '    hard-stop-after 60s'));
    await sandbox.run();
    const clients = Array.from({ length: 5 }, () => backend.track(connect(port, '127.0.0.1')));
    await expect.poll(() => backend.accepted.length, { timeout: 5000 }).toBe(5);
    const first = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    expect(first?.usage).toMatchObject({ listening: true, connections: { client: 5, server: 5 } });
    expect(first?.usage?.rssBytes).toBeGreaterThan(1024 * 1024);

    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    const byId = async (id: number | undefined): Promise<GenerationStatus | undefined> => (await sandbox.status()).generations.find((generation) => generation.id === id);
    await expect.poll(async () => (await byId(first?.id))?.usage?.listening, { timeout: 5000 }).toBe(false);
    const draining = await byId(first?.id);
    expect(draining).toMatchObject({ state: 'draining', usage: { connections: { client: 5, server: 5 } } });
    const second = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    expect(second?.usage).toMatchObject({ listening: true, connections: { client: 0, server: 0 } });
    const text = await sandbox.cli(['status']);
    expect(text.stdout).toContain('held by 10 connections');

    for (const client of clients.slice(0, 3)) client.destroy();
    await expect.poll(async () => (await byId(first?.id))?.usage?.connections.client ?? 0, { timeout: 5000 }).toBe(2);
    for (const client of clients.slice(3)) client.destroy();
    await expect.poll(async () => (await byId(first?.id))?.state, { timeout: 10_000 }).toBe('exited');
  });
});

describe('reload history', () => {
  it('survives a restart, keeps a failure with haproxy’s lines, shows the diff, and stays bounded on disk', async () => {
    sandbox.writeConfig(httpConfig(port, 'one'));
    await sandbox.run(['--history-limit', '5']);
    sandbox.writeConfig(httpConfig(port, 'two'));
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    sandbox.writeConfig(`${httpConfig(port, 'three')}    no-such-keyword\n`);
    expect((await sandbox.cli(['reload'])).exitCode).toBe(10);

    sandbox.daemon?.kill('SIGKILL');
    await sandbox.daemon;
    sandbox.writeConfig(httpConfig(port, 'two'));
    await sandbox.run(['--history-limit', '5']);
    const listed = JSON.parse((await sandbox.cli(['history', '--json'])).stdout) as HistoryEntry[];
    expect(listed.map((entry) => [entry.mode, entry.ok])).toEqual([
      ['reload', true], // the restarted supervisor's first generation, over the adopted one
      ['reload', false],
      ['reload', true],
      ['start', true],
    ]);
    const failed = listed[1];
    expect(failed?.output.join('\n')).toMatch(/\[ALERT\].*no-such-keyword/);
    expect(failed?.config?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(failed?.haproxyVersion).toMatch(/^\d+\.\d+/);

    const diff = await sandbox.cli(['history', '--diff', String(listed[2]?.id)]);
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('-    http-request return status 200 content-type text/plain string "one"');
    expect(diff.stdout).toContain('+    http-request return status 200 content-type text/plain string "two"');
    expect(listed[2]?.config?.changedFiles).toEqual([sandbox.config]);

    for (let round = 0; round < 12; round++) {
      sandbox.writeConfig(httpConfig(port, `r${round}`));
      expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    }
    const current = readFileSync(path.join(sandbox.runDir, 'history.jsonl'), 'utf8').trim().split('\n');
    const rotated = readFileSync(path.join(sandbox.runDir, 'history.1.jsonl'), 'utf8').trim().split('\n');
    expect(current.length).toBeLessThanOrEqual(5);
    expect(rotated).toHaveLength(5);
    const newest = JSON.parse((await sandbox.cli(['history', '-n', '3', '--json'])).stdout) as HistoryEntry[];
    expect(newest.map((entry) => entry.id)).toEqual([...newest.map((entry) => entry.id)].sort((a, b) => b - a));
    expect(newest).toHaveLength(3);
  });
});

describe('metrics and health endpoints', () => {
  /** Prometheus text: `name{label="value",…} number` lines, plus # HELP/# TYPE comments. */
  function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
    const samples = [];
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
      expect(match, `not Prometheus text: ${line}`).not.toBeNull();
      const labels: Record<string, string> = {};
      for (const label of (match?.[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[label[1] ?? ''] = label[2] ?? '';
      samples.push({ name: match?.[1] ?? '', labels, value: Number(match?.[3]) });
    }
    return samples;
  }

  it('serves Prometheus text whose counters move with ok and failed reloads, with no pid label', async () => {
    const metricsPort = await freePort();
    sandbox.writeConfig(httpConfig(port, 'm'));
    await sandbox.run(['--metrics-listen', `127.0.0.1:${metricsPort}`]);
    const scrape = async () => parsePrometheus(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
    const count = (samples: Awaited<ReturnType<typeof scrape>>, result: string) =>
      samples.filter((sample) => sample.name === 'haproxy_supervisor_reloads_total' && sample.labels['result'] === result).reduce((sum, sample) => sum + sample.value, 0);
    const before = await scrape();
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    sandbox.writeConfig(`${httpConfig(port, 'm')}    no-such-keyword\n`);
    expect((await sandbox.cli(['reload'])).exitCode).toBe(10);
    const after = await scrape();
    expect(count(after, 'ok') - count(before, 'ok')).toBe(1);
    expect(count(after, 'failed') - count(before, 'failed')).toBe(1);
    expect(after.find((sample) => sample.name === 'haproxy_supervisor_last_reload_failed')?.value).toBe(1);
    expect(after.find((sample) => sample.name === 'haproxy_supervisor_generations' && sample.labels['state'] === 'active')?.value).toBe(1);
    expect(after.some((sample) => sample.name === 'haproxy_supervisor_process_resident_memory_bytes')).toBe(true);
    const pids = new Set((await sandbox.status()).generations.map((generation) => String(generation.pid)));
    for (const sample of after) {
      expect(Object.keys(sample.labels)).not.toContain('pid');
      for (const value of Object.values(sample.labels)) expect(pids.has(value), `${sample.name} has a pid as a label value`).toBe(false);
    }
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
  });

  // Prometheus' own linter (Debian's prometheus package; .ci/run installs it, so CI never skips this).
  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((file) => existsSync(file));
  const promtoolSkip = promtool === undefined ? ' (skipped outside CI: promtool is not installed, apt-get install prometheus)' : '';
  it.skipIf(promtool === undefined && process.env['CI'] === undefined)(`passes promtool check metrics after ok and failed reloads${promtoolSkip}`, async () => {
    expect(promtool, 'promtool is not installed (apt-get install prometheus)').toBeDefined();
    const metricsPort = await freePort();
    sandbox.writeConfig(httpConfig(port, 'lint'));
    await sandbox.run(['--metrics-listen', `127.0.0.1:${metricsPort}`]);
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    sandbox.writeConfig(`${httpConfig(port, 'lint')}    no-such-keyword\n`);
    expect((await sandbox.cli(['reload'])).exitCode).toBe(10);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toContain('haproxy_supervisor_reloads_total{');
    expect(text).toContain('haproxy_supervisor_nodejs_active_handles{');
    const lint = await execa(promtool as string, ['check', 'metrics'], { input: text, reject: false });
    expect(`${String(lint.stdout)}${String(lint.stderr)}`).toBe('');
    expect(lint.exitCode).toBe(0);
  });

  it('/readyz is 503 with the reason while no generation serves, and 200 again once one does', async () => {
    const metricsPort = await freePort();
    const failFlag = path.join(sandbox.dir, 'fail-run');
    sandbox.writeConfig(httpConfig(port, 'ready'));
    await sandbox.run(['--metrics-listen', `127.0.0.1:${metricsPort}`, '--haproxy', RUN_FAILS, '--respawn-backoff', '1s'], { HS_FAIL_RUN: failFlag });
    const readyz = async () => {
      const response = await fetch(`http://127.0.0.1:${metricsPort}/readyz`);
      return `${response.status} ${await response.text()}`;
    };
    expect(await readyz()).toBe('200 ready\n');
    writeFileSync(failFlag, '');
    const active = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    process.kill(active?.pid ?? -1, 'SIGKILL');
    await expect.poll(readyz, { timeout: 5000, interval: 20 }).toMatch(/^503 not ready: no generation serves/);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(200);
    rmSync(failFlag);
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    expect(await readyz()).toBe('200 ready\n');
  });
});

describe('the log', () => {
  it('counts the routine `Proxy X stopped` lines of a draining generation on its exit line instead of logging one warning per proxy', async () => {
    const backends = Array.from({ length: 20 }, (_, index) => `backend b${index}\n    server s1 127.0.0.1:9 disabled\n`).join('');
    sandbox.writeConfig(`${httpConfig(port, 'logs')}${backends}`);
    await sandbox.run();
    const first = (await sandbox.status()).generations.find((generation) => generation.state === 'active');
    expect((await sandbox.cli(['reload'])).exitCode).toBe(0);
    const exitLine = (): { proxiesStopped?: number } | undefined =>
      sandbox.output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; gen?: number; proxiesStopped?: number })
        .find((entry) => entry.msg === 'generation exited' && entry.gen === first?.id);
    await expect.poll(exitLine, { timeout: 10_000 }).toBeDefined();
    // fe and the 20 backends at least (haproxy adds its own GLOBAL and, in 2.6, <HTTPCLIENT> proxies).
    expect(exitLine()?.proxiesStopped).toBeGreaterThanOrEqual(21);
    expect(sandbox.output).not.toMatch(/Proxy b\d+ stopped/);
  });
});

