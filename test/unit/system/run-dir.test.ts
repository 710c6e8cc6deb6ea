import { chmodSync, chownSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDirUnsafeError } from '../../../src/errors.js';
import { prepareRunDir, runDirAccess } from '../../../src/system/run-dir.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();
const PRIVATE = runDirAccess(undefined);
const isRoot = process.getuid?.() === 0;

describe('prepareRunDir', () => {
  it('creates the run dir 0700 (parents as needed), or 0750 for a socket group, whatever the umask', () => {
    const umask = process.umask(0o000);
    try {
      const runDir = path.join(tempDir(), 'a', 'b', 'run');
      prepareRunDir(runDir, PRIVATE, { checkParent: false });
      expect(statSync(runDir).mode & 0o7777).toBe(0o700);
      const grouped = path.join(tempDir(), 'run');
      prepareRunDir(grouped, runDirAccess(process.getgid?.() ?? 0), { checkParent: false });
      expect(statSync(grouped).mode & 0o7777).toBe(0o750);
    } finally {
      process.umask(umask);
    }
  });

  it('accepts an existing private dir, and a symlink to one', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir, { mode: 0o700 });
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).not.toThrow();
    const link = path.join(tempDir(), 'link');
    symlinkSync(runDir, link);
    expect(() => prepareRunDir(link, PRIVATE, { checkParent: false })).not.toThrow();
  });

  it('gives an existing safe dir exactly the access a new one gets (0755 → 0700; 0700 → 0750 for a socket group)', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir);
    chmodSync(runDir, 0o755);
    prepareRunDir(runDir, PRIVATE, { checkParent: false });
    expect(statSync(runDir).mode & 0o7777).toBe(0o700);
    prepareRunDir(runDir, runDirAccess(process.getgid?.() ?? 0), { checkParent: false });
    expect(statSync(runDir).mode & 0o7777).toBe(0o750);
  });

  it('refuses a dir writable by others or its group, saying why and the chmod that fixes it', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir);
    chmodSync(runDir, 0o777);
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).toThrow(RunDirUnsafeError);
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).toThrow(`it is writable by its group and others (mode 0777)`);
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).toThrow(`Fix: chmod 700 ${runDir}`);
    chmodSync(runDir, 0o770);
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).toThrow('writable by its group (mode 0770)');
    expect(statSync(runDir).mode & 0o7777).toBe(0o770); // refused, not changed
  });

  it('refuses a symlink to an unsafe dir, naming where it leads', () => {
    const target = path.join(tempDir(), 'open');
    mkdirSync(target);
    chmodSync(target, 0o777);
    const link = path.join(tempDir(), 'run');
    symlinkSync(target, link);
    expect(() => prepareRunDir(link, PRIVATE, { checkParent: false })).toThrow(`${link} (which resolves to ${target}) as the run dir`);
  });

  it.skipIf(!isRoot)('refuses a dir owned by another user (needs root to make one)', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir, { mode: 0o700 });
    chownSync(runDir, 65534, 65534);
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).toThrow('it is owned by uid 65534, not by this user (uid 0)');
    expect(() => prepareRunDir(runDir, PRIVATE, { checkParent: false })).toThrow(`chown 0 ${runDir} && chmod 700 ${runDir}`);
  });

  it('checks the parent of the default per-user run dir: refused when others may write it, unless it is sticky like /tmp', () => {
    const parent = tempDir();
    chmodSync(parent, 0o777);
    expect(() => prepareRunDir(path.join(parent, 'run'), PRIVATE, { checkParent: true })).toThrow('as the parent of the default run dir');
    chmodSync(parent, 0o1777);
    expect(() => prepareRunDir(path.join(parent, 'run'), PRIVATE, { checkParent: true })).not.toThrow();
  });
});
