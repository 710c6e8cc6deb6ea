import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { identify, type ProcessIdentity } from './proc.js';

/** How a process ended: exactly one of code/signal is set, or `error` when it could not be started. */
export type ProcessExit = { code: number | null; signal: NodeJS.Signals | null; error?: Error };

/** A long-running child in its own session: it outlives the supervisor, which only watches it. Adopted
 * processes (system/adopted.ts) have the same shape. */
export type ChildHandle = {
  readonly pid: number;
  readonly identity: ProcessIdentity;
  /** Resolves once the child has exited and been reaped. */
  readonly exited: Promise<ProcessExit>;
  /** True until the kernel reported the exit: single-threaded, so a pid checked here cannot be recycled yet. */
  isRunning(): boolean;
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
  return { pid, identity, exited, isRunning };
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
