import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectoryWatcher, type WatchProblem } from '../../../src/watch/directory-watcher.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();
const watchers: DirectoryWatcher[] = [];
afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.close();
});

describe('DirectoryWatcher', () => {
  it('reports writes, creations and renames in watched directories, watches a replaced directory again, and skips a missing one until it exists', async () => {
    const dir = tempDir();
    const certs = path.join(dir, 'certs');
    const later = path.join(dir, 'later');
    mkdirSync(certs);
    let events = 0;
    const problems: WatchProblem[] = [];
    const watcher = new DirectoryWatcher(() => events++, (problem) => problems.push(problem));
    watchers.push(watcher);
    expect(watcher.set(new Set([certs, later]))).toEqual([certs]);
    expect(watcher.directories()).toEqual([certs]);
    writeFileSync(path.join(certs, 'a.pem'), 'a');
    await expect.poll(() => events).toBeGreaterThan(0);

    // The directory replaced by another one (rename over): the old watch is on a dead inode until set() runs.
    const staged = path.join(dir, 'certs.new');
    mkdirSync(staged);
    rmSync(certs, { recursive: true });
    renameSync(staged, certs);
    expect(watcher.set(new Set([certs, later]))).toEqual([certs]);
    const before = events;
    writeFileSync(path.join(certs, 'b.pem'), 'b');
    await expect.poll(() => events).toBeGreaterThan(before);

    mkdirSync(later);
    expect(watcher.set(new Set([certs, later]))).toEqual([later]);
    expect(watcher.set(new Set([later]))).toEqual([]);
    expect(watcher.directories()).toEqual([later]);
    expect(problems).toEqual([]);
  });
});
