import { closeSync, fchmodSync, fchownSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { RunDirOwnedError } from '../errors.js';
import { CREATE_EXCLUSIVE } from './atomic-write.js';
import { readComm, readStartTime } from './proc.js';
import type { RunDirAccess } from './run-dir.js';

/** /proc/<pid>/comm of a running supervisor: `process.title` truncated to 15 characters by the kernel. */
export const SUPERVISOR_COMM = 'haproxy-supervi';

/** The pid in a pidfile, or undefined when the file is missing or holds no pid. */
export function readPidfile(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** True when `pid` is a live (not zombie) haproxy-supervisor other than this process. */
export function isLiveSupervisor(pid: number): boolean {
  return pid !== process.pid && readStartTime(pid) !== undefined && readComm(pid) === SUPERVISOR_COMM;
}

/**
 * Creates the pidfile exclusively (O_CREAT|O_EXCL|O_NOFOLLOW: never through a link) with this process's pid. A
 * stale file (pid dead, or not a supervisor) is replaced; a live supervisor's file makes it throw
 * RunDirOwnedError without touching anything.
 */
export function acquirePidfile(file: string, access: Pick<RunDirAccess, 'fileMode' | 'gid'> = { fileMode: 0o600, gid: undefined }): void {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(file, CREATE_EXCLUSIVE, access.fileMode);
      try {
        fchmodSync(fd, access.fileMode);
        if (access.gid !== undefined) fchownSync(fd, -1, access.gid);
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readPidfile(file);
    if (owner !== undefined && isLiveSupervisor(owner)) throw new RunDirOwnedError({ pidfile: file, pid: owner });
    // Stale: remove it and race for it again; a concurrent winner is seen as live on the next pass.
    try {
      unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new RunDirOwnedError({ pidfile: file, pid: readPidfile(file) });
}

/** Removes the pidfile if it still holds this process's pid. */
export function releasePidfile(file: string): void {
  if (readPidfile(file) !== process.pid) return;
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
