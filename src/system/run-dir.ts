import { chmodSync, chownSync, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { RunDirUnsafeError } from '../errors.js';
import { socketGroupGid } from './group.js';
import { acquirePidfile } from './pidfile.js';

/**
 * Who may touch the run dir and the files the supervisor writes there: only its own user, plus read access for the
 * `--socket-group` when there is one (that group also gets the control socket, mode 0660).
 */
export type RunDirAccess = { dirMode: number; fileMode: number; gid: number | undefined };

/** The access for a run dir with or without a socket group. */
export function runDirAccess(gid: number | undefined): RunDirAccess {
  return gid === undefined ? { dirMode: 0o700, fileMode: 0o600, gid } : { dirMode: 0o750, fileMode: 0o640, gid };
}

/**
 * What a daemon does first: makes sure the run dir is safe (prepareRunDir), then takes its pidfile (a second
 * supervisor touches nothing). Returns the access for the files it writes there.
 */
export function takeRunDir(runDir: string, pidfile: string, options: { socketGroup: string | undefined }): RunDirAccess {
  const access = runDirAccess(socketGroupGid(options.socketGroup));
  prepareRunDir(runDir, access);
  acquirePidfile(pidfile, access);
  return access;
}

/**
 * Creates the run dir (0700, or 0750 with a socket group) or accepts an existing one only if, once symlinks are
 * resolved, it is a directory owned by this user and writable by nobody else (then sets that same mode and
 * group on it); otherwise throws RunDirUnsafeError saying what is wrong and the command that fixes it. Anyone who
 * could write there could plant links or replace the files the supervisor writes, or its control socket.
 * First the way there (checkWayTo): no directory on it, nor any symlink it goes through, may be replaceable by
 * another user.
 */
export function prepareRunDir(runDir: string, access: RunDirAccess): void {
  const uid = process.getuid?.() ?? 0;
  checkWayTo(runDir, uid);
  try {
    mkdirSync(runDir, { mode: access.dirMode });
    chmodSync(runDir, access.dirMode); // the umask may have narrowed it
    if (access.gid !== undefined) chownSync(runDir, -1, access.gid);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      mkdirSync(path.dirname(runDir), { recursive: true, mode: 0o755 });
      prepareRunDir(runDir, access);
      return;
    }
    if (code !== 'EEXIST') throw error;
  }
  const real = realpathSync(runDir);
  const stats = statSync(real);
  if (!stats.isDirectory()) {
    throw new RunDirUnsafeError({ runDir, problem: `${described(runDir, real)} as the run dir: it is not a directory`, fix: 'choose another `--run-dir`' });
  }
  refuseUnless(runDir, real, stats, uid, access, 'the run dir');
  // Ours and safe: give it exactly the access a new one gets (the socket group may need to reach the socket).
  if ((stats.mode & 0o7777) !== access.dirMode) chmodSync(real, access.dirMode);
  if (access.gid !== undefined && stats.gid !== access.gid) chownSync(real, -1, access.gid);
}

/** More symlinks than this on one path is a loop (the kernel's own limit, ELOOP). */
const MAX_LINKS = 40;

/**
 * Walks the run dir's path the way the kernel resolves it, link by link, and refuses (RunDirUnsafeError) when an
 * entry on the way — a directory, or a symlink — sits in a directory that someone other than this user or root
 * could change: owned by another user, or writable by its group or others without the sticky bit (with it, the
 * entry itself must be this user's or root's: nobody else can then rename or remove it). Such an entry could be
 * swapped later for a link of theirs, and every client command would talk to their control socket. OpenSSH's
 * StrictModes rule, plus sticky directories like /tmp. A link in a root-owned directory (/var/run → /run) or a
 * private one is fine. The part that does not exist yet is created by the supervisor itself.
 */
export function checkWayTo(runDir: string, uid: number): void {
  const pending = runDir.split('/');
  let current = '/';
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, name);
    const entry = lstatOrUndefined(next);
    const danger = replaceableBy(statSync(current), entry?.uid ?? uid, uid);
    if (danger !== undefined) refuseWay(runDir, current, next, entry, danger, uid);
    if (entry === undefined) return; // the supervisor creates the rest, its own
    if (entry.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new RunDirUnsafeError({ runDir, problem: `${runDir} as the run dir: resolving it meets more than ${MAX_LINKS} symlinks (a loop)`, fix: 'choose another `--run-dir`' });
      const target = readlinkSync(next);
      pending.unshift(...target.split('/'));
      if (target.startsWith('/')) current = '/';
      continue;
    }
    current = next;
  }
}

/** Why an entry owned by `entryUid` in the directory `dir` could be replaced by someone other than `uid` and root, or undefined. */
function replaceableBy(dir: Stats, entryUid: number, uid: number): string | undefined {
  const mode = (dir.mode & 0o7777).toString(8).padStart(4, '0');
  if (dir.uid !== uid && dir.uid !== 0) return `is owned by uid ${dir.uid} (neither this user, uid ${uid}, nor root)`;
  const writers = [dir.mode & 0o020 ? 'its group' : '', dir.mode & 0o002 ? 'others' : ''].filter((who) => who !== '');
  if (writers.length === 0) return undefined;
  if (!(dir.mode & 0o1000)) return `is writable by ${writers.join(' and ')} without the sticky bit (mode ${mode})`;
  if (entryUid !== uid && entryUid !== 0) return `is writable by ${writers.join(' and ')} (mode ${mode}, sticky) and what is in it belongs to uid ${entryUid}`;
  return undefined;
}

function refuseWay(runDir: string, dir: string, entry: string, stats: Stats | undefined, danger: string, uid: number): never {
  const real = realpathOrUndefined(runDir);
  const elsewhere = real !== undefined && real !== runDir ? `\`--run-dir ${real}\` (where it leads now), or ` : '';
  const fix = danger.includes('without the sticky bit')
    ? `chmod go-w ${dir} (or chmod +t ${dir}), or ${elsewhere}choose another \`--run-dir\``
    : `${elsewhere}choose a \`--run-dir\` whose way there only this user (uid ${uid}) or root can change`;
  const link = stats?.isSymbolicLink() === true;
  throw new RunDirUnsafeError({
    runDir,
    problem: `${runDir} as the run dir: it goes through ${link ? `the symlink ${entry}` : entry} in ${dir}, which ${danger}, so another user could replace ${link ? 'that link' : 'it'} and have every client command talk to a control socket of theirs`,
    fix,
  });
}

function refuseUnless(given: string, real: string, stats: Stats, uid: number, access: RunDirAccess, what: string): void {
  const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
  const wanted = access.dirMode.toString(8);
  if (stats.uid !== uid) {
    throw new RunDirUnsafeError({
      runDir: given,
      problem: `${described(given, real)} as ${what}: it is owned by uid ${stats.uid}, not by this user (uid ${uid})`,
      fix: `chown ${uid} ${real} && chmod ${wanted} ${real}, or choose another \`--run-dir\``,
    });
  }
  const writers = [stats.mode & 0o020 ? 'its group' : '', stats.mode & 0o002 ? 'others' : ''].filter((who) => who !== '');
  if (writers.length > 0) {
    throw new RunDirUnsafeError({
      runDir: given,
      problem: `${described(given, real)} as ${what}: it is writable by ${writers.join(' and ')} (mode ${mode}), so another user could replace the files the supervisor writes there`,
      fix: `chmod ${wanted} ${real}, or choose another \`--run-dir\``,
    });
  }
}

function described(given: string, real: string): string {
  return given === real ? given : `${given} (which resolves to ${real})`;
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}
