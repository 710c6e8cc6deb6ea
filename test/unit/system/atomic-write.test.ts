import { lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/system/atomic-write.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();

describe('writeFileAtomic', () => {
  it('writes atomically, leaving no temp files', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    await Promise.all(Array.from({ length: 20 }, (_, index) => writeFileAtomic(file, JSON.stringify({ index }))));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('index');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('replaces a symlink planted at the file instead of writing through it', async () => {
    const dir = tempDir();
    const victim = path.join(tempDir(), 'victim');
    writeFileSync(victim, 'precious\n');
    const file = path.join(dir, 'state.json');
    symlinkSync(victim, file);
    await writeFileAtomic(file, '{"new":true}\n');
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('{"new":true}\n');
  });

  it('creates the file with exactly the mode asked, whatever the umask', async () => {
    const umask = process.umask(0o000);
    try {
      const file = path.join(tempDir(), 'state.json');
      await writeFileAtomic(file, 'x');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      await writeFileAtomic(file, 'y', { mode: 0o640 });
      expect(statSync(file).mode & 0o777).toBe(0o640);
    } finally {
      process.umask(umask);
    }
  });

  it('never writes through links planted at temp names an attacker could predict', async () => {
    const dir = tempDir();
    const victim = path.join(tempDir(), 'victim');
    writeFileSync(victim, 'precious\n');
    // The old scheme's names: .<file>.<pid>.<counter>.tmp
    for (let counter = 0; counter < 200; counter++) symlinkSync(victim, path.join(dir, `.state.json.${process.pid}.${counter}.tmp`));
    for (let index = 0; index < 20; index++) await writeFileAtomic(path.join(dir, 'state.json'), `{"index":${index}}\n`);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(path.join(dir, 'state.json')).isFile()).toBe(true);
    expect(readdirSync(dir).filter((name) => !name.startsWith('.state.json.'))).toEqual(['state.json']);
  });
});
