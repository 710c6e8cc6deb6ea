import { rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import { changedFiles, DigestCache, fingerprint, snapshot } from '../../../src/watch/content-hash.js';

const tempDir = useTempDirs();

describe('content snapshots', () => {
  it('tell real changes from touches and same-content rewrites, and name the changed files', async () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.cfg');
    const b = path.join(dir, 'b.map');
    writeFileSync(a, 'one');
    writeFileSync(b, 'x');
    const first = await snapshot([a, b]);
    writeFileSync(a, 'one'); // same content
    const same = await snapshot([a, b]);
    expect(fingerprint(same)).toBe(fingerprint(first));
    writeFileSync(b, 'y');
    const changed = await snapshot([a, b]);
    expect(fingerprint(changed)).not.toBe(fingerprint(first));
    expect(changedFiles(first, changed)).toEqual([b]);
    rmSync(a);
    const missing = await snapshot([a, b]);
    expect(missing.missing).toEqual([a]);
    expect(changedFiles(changed, missing)).toEqual([a]);
  });
});

describe('the digest cache', () => {
  const stats = (fields: Partial<Record<'dev' | 'ino' | 'size' | 'mtimeMs' | 'ctimeMs', number>>): Stats =>
    ({ dev: 1, ino: 2, size: 3, mtimeMs: 4.000001, ctimeMs: 5, ...fields }) as Stats;

  it('answers a digest only for the stat it was computed for, and forgets files no longer asked about', () => {
    const cache = new DigestCache();
    cache.set('/a', stats({}), 'digest-a');
    expect(cache.get('/a', stats({}))).toBe('digest-a');
    for (const changed of [{ ino: 9 }, { size: 9 }, { mtimeMs: 4.000002 }, { ctimeMs: 9 }, { dev: 9 }]) expect(cache.get('/a', stats(changed))).toBeUndefined();
    cache.keepOnly(['/b']);
    expect(cache.get('/a', stats({}))).toBeUndefined();
  });

  it('sees a same-size rewrite made right after a snapshot (a fresh file is never cached), and reuses nothing stale once settled', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'hosts.map');
    const cache = new DigestCache();
    writeFileSync(file, 'aaaa');
    const first = await snapshot([file], cache);
    writeFileSync(file, 'bbbb'); // same size, very likely the same kernel tick
    const second = await snapshot([file], cache);
    expect(changedFiles(first, second)).toEqual([file]);
    // Once its timestamps are a second old the digest is remembered; a change after that is still seen.
    const remembered = async (): Promise<string | undefined> => {
      await snapshot([file], cache);
      return cache.get(file, statSync(file));
    };
    await expect.poll(remembered, { timeout: 3000, interval: 100 }).toBe(second.digests.get(file));
    writeFileSync(file, 'cccc');
    expect(changedFiles(second, await snapshot([file], cache))).toEqual([file]);
  });
});
