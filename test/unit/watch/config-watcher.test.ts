import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/haproxy/config-load.js';
import { ConfigWatcher } from '../../../src/watch/config-watcher.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();
const watchers: ConfigWatcher[] = [];
afterEach(async () => {
  for (const watcher of watchers.splice(0)) await watcher.close();
});

describe('ConfigWatcher.capture', () => {
  it('reuses the last capture while nothing happened in the watched directories, and looks again after any change', async () => {
    const dir = tempDir();
    const config = path.join(dir, 'haproxy.cfg');
    const map = path.join(dir, 'hosts.map');
    writeFileSync(map, 'a 1\n');
    writeFileSync(config, `frontend fe\n    http-request set-var(txn.x) req.hdr(host),map(${map})\n`);
    const watcher = new ConfigWatcher({ config: [config], quietMs: 50, maxWaitMs: 200, log: pino({ level: 'silent' }) }, () => Promise.resolve({ ok: true }));
    watchers.push(watcher);
    // Before the watcher runs, every capture looks at the files.
    const before = await watcher.capture(loadConfig([config]));
    expect(await watcher.capture(loadConfig([config]))).not.toBe(before);
    watcher.start();
    const first = await watcher.capture(loadConfig([config]));
    watcher.loaded(first);
    expect(await watcher.capture(loadConfig([config]))).toBe(first);
    writeFileSync(map, 'a 2\n');
    await expect.poll(async () => watcher.changes(await watcher.capture(loadConfig([config]))), { timeout: 5000 }).toEqual([map]);
  });
});
