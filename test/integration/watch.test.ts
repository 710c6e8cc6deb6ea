import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { freePort, frontendConfig, httpConfig, useSandbox, type Sandbox } from '../helpers/harness.js';
import { Probe } from '../helpers/probe.js';
import { bodyOf as body } from '../helpers/http.js';

const context = useSandbox();
let sandbox: Sandbox;
let port: number;
beforeEach(() => ({ sandbox, port } = context));

/** Watch timings of the tests: the defaults (250 ms quiet, 2 s max wait). */
const WATCH = ['--watch'];

async function watchReloads(): Promise<Array<{ ok: boolean; triggers: string[] }>> {
  return (await sandbox.status()).reloads.filter((reload) => reload.triggers.includes('watch'));
}

describe('reload on configuration change', () => {
  it('reloads on each safe-edit save (temp file renamed over), three times, each live', async () => {
    sandbox.writeConfig(httpConfig(port, 'v0'));
    await sandbox.run(WATCH);
    for (const version of ['v1', 'v2', 'v3']) {
      sandbox.writeConfig(httpConfig(port, version)); // temp + rename
      await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe(version);
    }
    const reloads = await watchReloads();
    expect(reloads).toHaveLength(3);
    expect(reloads.every((reload) => reload.ok)).toBe(true);
    const status = await sandbox.status();
    expect(status.watch).toMatchObject({ enabled: true, files: [sandbox.config], lastChange: { files: [sandbox.config] } });
  });

  it('follows a Kubernetes-style ..data symlink swap with one reload', async () => {
    const first = path.join(sandbox.dir, '..2026_11_22_a');
    const second = path.join(sandbox.dir, '..2026_11_22_b');
    mkdirSync(first);
    writeFileSync(path.join(first, 'haproxy.cfg'), httpConfig(port, 'configmap-a'));
    symlinkSync('..2026_11_22_a', path.join(sandbox.dir, '..data'));
    symlinkSync('..data/haproxy.cfg', sandbox.config);
    await sandbox.run(WATCH);
    expect(await body(port)).toBe('configmap-a');

    mkdirSync(second);
    writeFileSync(path.join(second, 'haproxy.cfg'), httpConfig(port, 'configmap-b'));
    symlinkSync('..2026_11_22_b', path.join(sandbox.dir, '..data_tmp'));
    renameSync(path.join(sandbox.dir, '..data_tmp'), path.join(sandbox.dir, '..data'));
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('configmap-b');
    await sleep(1000); // nothing else may follow
    expect(await watchReloads()).toHaveLength(1);
  });

  it('reloads once for truncate-then-write 50 ms apart, never the empty file', async () => {
    sandbox.writeConfig(httpConfig(port, 'before'));
    await sandbox.run(WATCH);
    const handle = await open(sandbox.config, 'w'); // truncates
    await sleep(50);
    await handle.writeFile(httpConfig(port, 'after'));
    await handle.close();
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('after');
    await sleep(1000);
    const reloads = await watchReloads();
    expect(reloads).toHaveLength(1);
    expect(reloads[0]?.ok).toBe(true);
  });

  it('turns 100 writes in 1 s into a handful of reloads, ends on the final content, drops no request', async () => {
    sandbox.writeConfig(httpConfig(port, 'w0'));
    await sandbox.run(WATCH);
    const probe = new Probe(port, { concurrency: 20, maxRequests: 200_000, maxMs: 60_000 }).start();
    await expect.poll(() => probe.report.ok, { timeout: 10_000 }).toBeGreaterThan(50);
    for (let write = 1; write <= 100; write++) {
      writeFileSync(sandbox.config, httpConfig(port, `w${write}`)); // in place: truncate + write
      await sleep(10);
    }
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('w100');
    await sleep(1000);
    const report = await probe.stop();
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    const reloads = await watchReloads();
    expect(reloads.length).toBeGreaterThanOrEqual(1);
    expect(reloads.length).toBeLessThanOrEqual(5);
    expect(reloads.every((reload) => reload.ok)).toBe(true);
  });

  it('does not reload a broken edit, keeps serving, shows the error, and reloads once it is fixed', async () => {
    sandbox.writeConfig(httpConfig(port, 'good'));
    await sandbox.run(WATCH);
    const active = (await sandbox.status()).generations.find((g) => g.state === 'active');
    sandbox.writeConfig(`${httpConfig(port, 'broken')}    no-such-keyword here\n`);
    await expect.poll(async () => (await sandbox.status()).watch.lastError ?? '', { timeout: 10_000 }).toMatch(/no-such-keyword/);
    const failed = await sandbox.status();
    expect(failed.generations.find((g) => g.state === 'active')?.pid).toBe(active?.pid);
    expect(await body(port)).toBe('good');
    expect((await sandbox.cli(['status'])).stdout).toMatch(/error: haproxy rejected the configuration[\s\S]*no-such-keyword/);
    await sleep(1000);
    expect(await watchReloads()).toHaveLength(1); // the same broken content is not retried

    sandbox.writeConfig(httpConfig(port, 'fixed'));
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('fixed');
    expect((await sandbox.status()).watch.lastError).toBeUndefined();
  });

  it('reports a deleted config file once without reloading, and picks it up when it comes back', async () => {
    sandbox.writeConfig(httpConfig(port, 'here'));
    await sandbox.run(WATCH);
    rmSync(sandbox.config);
    await expect.poll(async () => (await sandbox.status()).watch.lastError ?? '', { timeout: 10_000 }).toMatch(/missing/);
    await sleep(1000);
    expect(await watchReloads()).toHaveLength(0);
    expect(await body(port)).toBe('here');
    expect(sandbox.output.match(/Config file missing/g)).toHaveLength(1);

    sandbox.writeConfig(httpConfig(port, 'back'));
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('back');
    expect((await sandbox.status()).watch.lastError).toBeUndefined();
  });

  it('reloads when a map file the config references changes', async () => {
    const map = path.join(sandbox.dir, 'maps', 'paths.map');
    mkdirSync(path.dirname(map));
    writeFileSync(map, '/ from-map-1\n');
    sandbox.writeConfig(frontendConfig(port, [`http-request return status 200 content-type text/plain lf-string "%[path,map(${map},none)]"`]));
    await sandbox.run(WATCH);
    expect(await body(port)).toBe('from-map-1');
    expect((await sandbox.status()).watch.files).toContain(map);
    writeFileSync(`${map}.tmp`, '/ from-map-2\n');
    renameSync(`${map}.tmp`, map);
    await expect.poll(() => body(port), { timeout: 10_000, interval: 20 }).toBe('from-map-2');
    expect((await sandbox.status()).watch.lastChange?.files).toEqual([map]);
  });

  it('reloads when a new *.cfg file appears in a -f directory', async () => {
    const confd = path.join(sandbox.dir, 'conf.d');
    mkdirSync(confd);
    writeFileSync(path.join(confd, '10-placeholder.cfg'), '# more frontends go here\n');
    sandbox.writeConfig(httpConfig(port, 'main'));
    await sandbox.run([...WATCH, '-f', confd]);
    const second = await freePort();
    writeFileSync(path.join(confd, '.20-extra.cfg.tmp'), `frontend extra\n    bind 127.0.0.1:${second}\n    http-request return status 200 content-type text/plain string "extra"\n`);
    renameSync(path.join(confd, '.20-extra.cfg.tmp'), path.join(confd, '20-extra.cfg'));
    await expect.poll(() => body(second), { timeout: 10_000, interval: 20 }).toBe('extra');
    expect(await body(port)).toBe('main');
    expect((await sandbox.status()).watch.files).toContain(path.join(confd, '20-extra.cfg'));
  });
});
