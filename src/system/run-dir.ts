import { chmodSync, chownSync, mkdirSync, realpathSync, statSync, type Stats } from 'node:fs';
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
export function takeRunDir(runDir: string, pidfile: string, options: { socketGroup: string | undefined; checkParent: boolean }): RunDirAccess {
  const access = runDirAccess(socketGroupGid(options.socketGroup));
  prepareRunDir(runDir, access, { checkParent: options.checkParent });
  acquirePidfile(pidfile, access);
  return access;
}

/**
 * Creates the run dir (0700, or 0750 with a socket group) or accepts an existing one only if, once symlinks are
 * resolved, it is a directory owned by this user and writable by nobody else (then sets that same mode and
 * group on it); otherwise throws RunDirUnsafeError
 * saying what is wrong and the command that fixes it. Anyone who could write there could plant links or replace
 * the files the supervisor writes, or its control socket. `checkParent` (the default per-user run dir): its parent
 * must be safe the same way, or sticky like /tmp (then others cannot rename or remove what is in it).
 */
export function prepareRunDir(runDir: string, access: RunDirAccess, options: { checkParent: boolean }): void {
  const uid = process.getuid?.() ?? 0;
  const parent = path.dirname(runDir);
  if (options.checkParent) {
    const stats = statOrUndefined(parent);
    if (stats !== undefined && !(stats.mode & 0o1000)) refuseUnless(parent, parent, stats, uid, access, 'the parent of the default run dir');
  }
  try {
    mkdirSync(runDir, { mode: access.dirMode });
    chmodSync(runDir, access.dirMode); // the umask may have narrowed it
    if (access.gid !== undefined) chownSync(runDir, -1, access.gid);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      mkdirSync(parent, { recursive: true, mode: 0o755 });
      prepareRunDir(runDir, access, { checkParent: false });
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

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
