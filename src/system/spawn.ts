import { spawn as spawnProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { identify, type ProcessIdentity } from './proc.js';

/** How a process ended: exactly one of code/signal is set, or `error` when it could not be started. */
export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null; error?: Error };

/** A long-running child in its own session: it outlives the supervisor, which only watches it. */
export type ChildHandle = {
  readonly pid: number;
  readonly identity: ProcessIdentity;
  /** Resolves once the child has exited and been reaped. */
  readonly exited: Promise<ProcessExit>;
  /** True until the kernel reported the exit: single-threaded, so a pid checked here cannot be recycled yet. */
  isRunning(): boolean;
  /** Signal the child if it has not exited. Returns false when it already had. */
  kill(signal: NodeJS.Signals): boolean;
};

export type SpawnOptions = {
  env: NodeJS.ProcessEnv;
  /** Every line the child writes on stdout or stderr. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
};

function drainLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}

/**
 * Starts `file` detached (setsid: its own session and process group, so it survives the supervisor and
 * ignores the supervisor's terminal signals), with stdin from /dev/null and stdout/stderr always drained.
 */
export async function spawnChild(file: string, args: string[], options: SpawnOptions): Promise<ChildHandle> {
  const subprocess = execa(file, args, {
    env: options.env,
    extendEnv: false,
    detached: true,
    cleanup: false,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    forceKillAfterDelay: false,
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    subprocess.once('exit', (code, signal) => resolve({ code, signal }));
    subprocess.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  // Never rejects (reject: false); awaited through `exited` instead.
  void subprocess.then(
    () => undefined,
    () => undefined,
  );
  drainLines(subprocess.stdout, (line) => options.onLine(line, 'stdout'));
  drainLines(subprocess.stderr, (line) => options.onLine(line, 'stderr'));

  const pid = subprocess.pid;
  if (pid === undefined) {
    const exit = await exited;
    throw exit.error ?? new Error(`Could not start ${file}.`);
  }
  // Read right after spawn: the child cannot have been reaped before this line runs in this tick.
  const identity = identify(pid) ?? { pid, startTime: -1 };
  const isRunning = (): boolean => subprocess.exitCode === null && subprocess.signalCode === null;
  return {
    pid,
    identity,
    exited,
    isRunning,
    kill(signal) {
      if (!isRunning()) return false;
      return subprocess.kill(signal);
    },
  };
}

/** Result of a short command run to completion. */
export type CommandResult = { exitCode: number | undefined; signal: string | undefined; stdout: string; stderr: string; failed: boolean; message: string };

/** Runs a short command (e.g. `haproxy -c`) to completion, never throwing on a non-zero exit. */
export async function runCommand(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  const result = await execa(file, args, {
    env: options.env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs,
    stripFinalNewline: true,
  });
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    failed: result.failed,
    message: result.failed ? (result.originalMessage ?? result.shortMessage ?? result.message ?? '') : '',
  };
}

/** A daemon started by `start`: its first status line on fd 3, or its exit when it dies first. */
export type DaemonHandle = { pid: number | undefined; firstLine: Promise<string | undefined>; exited: Promise<ProcessExit>; detach: () => void };

/**
 * Starts `file args` detached (its own session) with stdout and stderr appended to `logFile`, and a pipe on fd 3
 * on which it reports whether it came up (HAPSUP_READY_FD=3). node:child_process rather than execa:
 * the log fd must go to the daemon itself, never through a pipe that dies with `start`.
 */
export function spawnDaemon(file: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): DaemonHandle {
  const logFd = openSync(logFile, 'a', 0o640);
  let subprocess;
  try {
    subprocess = spawnProcess(file, args, {
      env: { ...env, HAPSUP_READY_FD: '3' },
      detached: true,
      stdio: ['ignore', logFd, logFd, 'pipe'],
    });
  } finally {
    closeSync(logFd);
  }
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
