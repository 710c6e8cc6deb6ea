import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { identify, type ProcessIdentity } from './proc.js';

// node:child_process rather than execa here: the daemon spawns exactly two things, haproxy generations (detached,
// lines drained) and `haproxy -c`/`-v` (collected, with a timeout), and execa's module graph cost the daemon about
// 4 MiB of RSS for features it never used (bench: "Supervisor footprint"). Tests and the bench keep execa.

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

/**
 * Calls `onLine` for each line of `stream` (without its \n or \r\n), the last one even without a final newline.
 * A split per chunk rather than node:readline: two readline interfaces per generation cost a reload more CPU than the
 * few lines haproxy writes (bench: CPU per reload).
 */
export function drainLines(stream: Readable | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let rest = '';
  const emit = (line: string): void => onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(emit);
  });
  stream.on('end', () => {
    if (rest !== '') emit(rest);
    rest = '';
  });
}

/**
 * Starts `file` detached (setsid: its own session and process group, so it survives the supervisor and
 * ignores the supervisor's terminal signals), with stdin from /dev/null and stdout/stderr always drained.
 */
export async function spawnChild(file: string, args: string[], options: SpawnOptions): Promise<ChildHandle> {
  const child = spawn(file, args, { env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });
  drainLines(child.stdout, (line) => options.onLine(line, 'stdout'));
  drainLines(child.stderr, (line) => options.onLine(line, 'stderr'));

  const pid = child.pid;
  if (pid === undefined) {
    const exit = await exited;
    throw exit.error ?? new Error(`Could not start ${file}.`);
  }
  // Read right after spawn: the child cannot have been reaped before this line runs in this tick.
  const identity = identify(pid) ?? { pid, startTime: -1 };
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  return { pid, identity, exited, isRunning };
}

/** Result of a short command run to completion. `message` says why it failed ('' when it did not). */
export type CommandResult = { exitCode: number | undefined; signal: string | undefined; stdout: string; stderr: string; failed: boolean; message: string };

/** Output without its final newline, as a shell's $(…) gives it. */
const stripFinalNewline = (text: string): string => text.replace(/\r?\n$/, '');

/**
 * Runs a short command (e.g. `haproxy -c`) to completion with stdin from /dev/null, never throwing: a non-zero
 * exit, a signal, a command that could not start and one that outlived `timeoutMs` (then SIGTERM, SIGKILL a second
 * later) are all results.
 */
export function runCommand(file: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CommandResult> {
  return new Promise((resolve) => {
    const command = [file, ...args].join(' ');
    const child = spawn(file, args, { env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM'); // our own child, not yet reaped ('close' has not fired)
      kill = setTimeout(() => child.kill('SIGKILL'), 1000);
    }, options.timeoutMs);
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(kill);
      const message =
        error !== undefined
          ? `Command failed to start: ${command}: ${error.message}`
          : timedOut
            ? `Command timed out after ${options.timeoutMs} milliseconds: ${command}`
            : signal !== null
              ? `Command was killed with ${signal}: ${command}`
              : code !== 0
                ? `Command failed with exit code ${code ?? '?'}: ${command}`
                : '';
      resolve({
        exitCode: code ?? undefined,
        signal: signal ?? undefined,
        stdout: stripFinalNewline(Buffer.concat(stdout).toString()),
        stderr: stripFinalNewline(Buffer.concat(stderr).toString()),
        failed: message !== '',
        message,
      });
    };
    child.once('error', (error) => finish(null, null, error));
    child.once('close', (code, signal) => finish(code, signal));
  });
}
