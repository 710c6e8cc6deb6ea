import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunDirUnsafeError } from '../../../src/errors.js';
import { checkWayTo, prepareRunDir, runDirAccess } from '../../../src/system/run-dir.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();
const PRIVATE = runDirAccess(undefined);
const isRoot = process.getuid?.() === 0;

describe('prepareRunDir', () => {
  it('creates the run dir 0700 (parents as needed), or 0750 for a socket group, whatever the umask', () => {
    const umask = process.umask(0o000);
    try {
      const runDir = path.join(tempDir(), 'a', 'b', 'run');
      prepareRunDir(runDir, PRIVATE);
      expect(statSync(runDir).mode & 0o7777).toBe(0o700);
      const grouped = path.join(tempDir(), 'run');
      prepareRunDir(grouped, runDirAccess(process.getgid?.() ?? 0));
      expect(statSync(grouped).mode & 0o7777).toBe(0o750);
    } finally {
      process.umask(umask);
    }
  });

  it('accepts an existing private dir, and a symlink to one', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir, { mode: 0o700 });
    expect(() => prepareRunDir(runDir, PRIVATE)).not.toThrow();
    const link = path.join(tempDir(), 'link');
    symlinkSync(runDir, link);
    expect(() => prepareRunDir(link, PRIVATE)).not.toThrow();
  });

  it('gives an existing safe dir exactly the access a new one gets (0755 → 0700; 0700 → 0750 for a socket group)', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir);
    chmodSync(runDir, 0o755);
    prepareRunDir(runDir, PRIVATE);
    expect(statSync(runDir).mode & 0o7777).toBe(0o700);
    prepareRunDir(runDir, runDirAccess(process.getgid?.() ?? 0));
    expect(statSync(runDir).mode & 0o7777).toBe(0o750);
  });

  it('refuses a dir writable by others or its group, saying why and the chmod that fixes it', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir);
    chmodSync(runDir, 0o777);
    expect(() => prepareRunDir(runDir, PRIVATE)).toThrow(RunDirUnsafeError);
    expect(() => prepareRunDir(runDir, PRIVATE)).toThrow(`it is writable by its group and others (mode 0777)`);
    expect(() => prepareRunDir(runDir, PRIVATE)).toThrow(`Fix: chmod 700 ${runDir}`);
    chmodSync(runDir, 0o770);
    expect(() => prepareRunDir(runDir, PRIVATE)).toThrow('writable by its group (mode 0770)');
    expect(statSync(runDir).mode & 0o7777).toBe(0o770); // refused, not changed
  });

  it('refuses a symlink to an unsafe dir, naming where it leads', () => {
    const target = path.join(tempDir(), 'open');
    mkdirSync(target);
    chmodSync(target, 0o777);
    const link = path.join(tempDir(), 'run');
    symlinkSync(target, link);
    expect(() => prepareRunDir(link, PRIVATE)).toThrow(`${link} (which resolves to ${target}) as the run dir`);
  });

  it.skipIf(!isRoot)('refuses a dir owned by another user (needs root to make one)', () => {
    const runDir = path.join(tempDir(), 'run');
    mkdirSync(runDir, { mode: 0o700 });
    chownSync(runDir, 65534, 65534);
    expect(() => prepareRunDir(runDir, PRIVATE)).toThrow('it is owned by uid 65534, not by this user (uid 0)');
    expect(() => prepareRunDir(runDir, PRIVATE)).toThrow(`chown 0 ${runDir} && chmod 700 ${runDir}`);
  });

  it('refuses a run dir whose parent others may write, unless it is sticky like /tmp (then the run dir must be ours)', () => {
    const parent = tempDir();
    chmodSync(parent, 0o777);
    expect(() => prepareRunDir(path.join(parent, 'run'), PRIVATE)).toThrow(RunDirUnsafeError);
    expect(() => prepareRunDir(path.join(parent, 'run'), PRIVATE)).toThrow(`in ${parent}, which is writable by its group and others without the sticky bit (mode 0777)`);
    expect(() => prepareRunDir(path.join(parent, 'run'), PRIVATE)).toThrow(`Fix: chmod go-w ${parent} (or chmod +t ${parent})`);
    chmodSync(parent, 0o1777);
    expect(() => prepareRunDir(path.join(parent, 'run'), PRIVATE)).not.toThrow();
  });

  it('refuses a run dir reached through a symlink in a directory others may write without the sticky bit (issue 22)', () => {
    const target = path.join(tempDir(), 'private');
    mkdirSync(target, { mode: 0o700 });
    const shared = tempDir();
    chmodSync(shared, 0o777);
    const link = path.join(shared, 'run');
    symlinkSync(target, link);
    const refused = (() => {
      try {
        prepareRunDir(link, PRIVATE);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(RunDirUnsafeError);
    expect(String(refused)).toContain(`it goes through the symlink ${link} in ${shared}, which is writable by its group and others without the sticky bit (mode 0777)`);
    expect(String(refused)).toContain(`\`--run-dir ${target}\` (where it leads now)`);
    // A link deeper in the path counts the same: <shared>/via → a private tree, run dir <shared>/via/run.
    const tree = path.join(tempDir(), 'tree');
    mkdirSync(tree, { mode: 0o700 });
    symlinkSync(tree, path.join(shared, 'via'));
    expect(() => prepareRunDir(path.join(shared, 'via', 'run'), PRIVATE)).toThrow(`the symlink ${path.join(shared, 'via')} in ${shared}`);
    expect(statSync(target).mode & 0o7777).toBe(0o700); // refused, nothing created or changed
    expect(() => statSync(path.join(tree, 'run'))).toThrow();
  });

  it('accepts a run dir reached through symlinks in private or root-owned directories (like /var/run → /run)', () => {
    const target = path.join(tempDir(), 'private');
    mkdirSync(target, { mode: 0o700 });
    const home = tempDir(); // 0700, this user's
    symlinkSync(target, path.join(home, 'run'));
    expect(() => prepareRunDir(path.join(home, 'run'), PRIVATE)).not.toThrow();
    const relative = path.join(home, 'relative');
    symlinkSync(path.join('..', path.basename(path.dirname(target)), 'private'), relative);
    expect(() => prepareRunDir(relative, PRIVATE)).not.toThrow();
    // /var/run is a link in root-owned /var on Debian, to /run (root's, 0755); only the way is checked here.
    if (lstatSync('/var/run').isSymbolicLink()) expect(() => checkWayTo('/var/run/haproxy-supervisor', process.getuid?.() ?? 0)).not.toThrow();
  });

  it('refuses a symlink loop', () => {
    const home = tempDir();
    symlinkSync(path.join(home, 'b'), path.join(home, 'a'));
    symlinkSync(path.join(home, 'a'), path.join(home, 'b'));
    expect(() => prepareRunDir(path.join(home, 'a', 'run'), PRIVATE)).toThrow('more than 40 symlinks');
  });

  it.skipIf(!isRoot)('refuses a way through a directory owned by another user, or a sticky one where the entry is another user\'s (needs root)', () => {
    const theirs = path.join(tempDir(), 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chownSync(theirs, 65534, 65534);
    expect(() => prepareRunDir(path.join(theirs, 'run'), PRIVATE)).toThrow(`in ${theirs}, which is owned by uid 65534 (neither this user, uid 0, nor root)`);
    const sticky = tempDir();
    chmodSync(sticky, 0o1777);
    const target = path.join(tempDir(), 'private');
    mkdirSync(target, { mode: 0o700 });
    const link = path.join(sticky, 'run');
    symlinkSync(target, link);
    lchownSync(link, 65534, 65534);
    expect(() => prepareRunDir(link, PRIVATE)).toThrow(`the symlink ${link} in ${sticky}, which is writable by its group and others (mode 1777, sticky) and what is in it belongs to uid 65534`);
  });
});
