import { spawn as spawnProcess } from 'node:child_process';
import { closeSync, constants, fchmodSync, fchownSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RunDirAccess } from './run-dir.js';
import type { ProcessExit } from './spawn.js';

/** A daemon started by `start`: its first status line on fd 3, or its exit when it dies first. */
export type DaemonHandle = { pid: number | undefined; firstLine: Promise<string | undefined>; exited: Promise<ProcessExit>; detach: () => void };

/**
 * Starts `file args` detached (its own session) with stdout and stderr appended to `logFile`, and a pipe on fd 3
 * on which it reports whether it came up (HAPSUP_READY_FD=3). node:child_process rather than execa:
 * the log fd must go to the daemon itself, never through a pipe that dies with `start`.
 */
export function spawnDaemon(file: string, args: string[], logFile: string, env: NodeJS.ProcessEnv, access: RunDirAccess): DaemonHandle {
  // Appended, never through a link (O_NOFOLLOW): a log path someone else could point elsewhere is refused.
  const logFd = openSync(logFile, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, access.fileMode);
  try {
    fchmodSync(logFd, access.fileMode);
    if (access.gid !== undefined) fchownSync(logFd, -1, access.gid);
  } catch (error) {
    closeSync(logFd);
    throw error;
  }
  try {
    return spawnReporting(file, args, env, logFd);
  } finally {
    closeSync(logFd);
  }
}

/**
 * Starts the successor of a running daemon (`upgrade`): the same command line, detached, writing where this
 * process writes (its stdout and stderr are inherited: the journal under systemd, the log file under `start`).
 */
export function spawnSuccessor(file: string, args: string[], env: NodeJS.ProcessEnv): DaemonHandle {
  return spawnReporting(file, args, env, 'inherit');
}

/** Spawns `file args` in its own session with stdout/stderr on `output` and a report pipe on fd 3. */
function spawnReporting(file: string, args: string[], env: NodeJS.ProcessEnv, output: number | 'inherit'): DaemonHandle {
  const subprocess = spawnProcess(file, args, { env: { ...env, HAPSUP_READY_FD: '3' }, detached: true, stdio: ['ignore', output, output, 'pipe'] });
  const exited = new Promise<ProcessExit>((resolve) => {
    subprocess.once('exit', (code, signal) => resolve({ code, signal }));
    subprocess.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  const status = subprocess.stdio[3] as Readable | null;
  const firstLine = new Promise<string | undefined>((resolve) => {
    if (status === null) {
      resolve(undefined);
      return;
    }
    const lines = createInterface({ input: status, crlfDelay: Infinity });
    lines.once('line', (line) => {
      resolve(line); // before close(), which emits 'close' synchronously
      lines.close();
    });
    lines.once('close', () => resolve(undefined));
  });
  return {
    pid: subprocess.pid,
    firstLine,
    exited,
    detach() {
      status?.destroy();
      subprocess.unref();
    },
  };
}
