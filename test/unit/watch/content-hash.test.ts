import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import { changedFiles, fingerprint, snapshot } from '../../../src/watch/content-hash.js';

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
