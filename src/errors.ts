/**
 * Error classes with context. Each carries a stable `code`: the same code travels in control-socket error replies
 * (control/types.ts), and cli/exit-codes.ts is the only map from codes to exit codes.
 */

/** Every stable error code; `failure` is anything unexpected. */
export const ERROR_CODES = [
  'config-invalid',
  'start-failed',
  'transfer-failed',
  'verify-failed',
  'stopping',
  'run-dir-owned',
  'run-dir-unsafe',
  'config-in-use',
  'upgrade-failed',
  'not-running',
  'usage',
  'bad-request',
  'unknown-command',
  'too-large',
  'busy',
  'failure',
] as const;

/** A stable error code of error replies and failed reloads. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Where a reload failed. `check`/`lint`: configuration; `spawn`/`ready`: the new generation; `transfer`: -x;
 * `verify`: the new generation served but failed the verify window (rolled back).
 */
export type ReloadPhase = 'lint' | 'check' | 'spawn' | 'ready' | 'transfer' | 'verify' | 'stopping';

/** A bad option value; the message names the option, the value and what was expected. */
export class OptionError extends Error {
  override name = 'OptionError';
  readonly code = 'usage';
}

/** `haproxy -c` rejected the configuration; `lines` are haproxy's own ALERT/WARNING lines. */
export class HaproxyCheckError extends Error {
  override name = 'HaproxyCheckError';
  readonly code = 'config-invalid';
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly lines: string[];

  constructor(options: { command: string; exitCode: number | undefined; lines: string[]; cause?: unknown }) {
    super(`haproxy rejected the configuration (exit ${options.exitCode ?? 'none'}):\n${options.lines.join('\n')}`, { cause: options.cause });
    this.command = options.command;
    this.exitCode = options.exitCode;
    this.lines = options.lines;
  }
}

/** The stable code of a reload that failed in `phase`. */
export function reloadErrorCode(phase: ReloadPhase): ErrorCode {
  if (phase === 'check' || phase === 'lint') return 'config-invalid';
  if (phase === 'transfer') return 'transfer-failed';
  if (phase === 'verify') return 'verify-failed';
  if (phase === 'stopping') return 'stopping';
  return 'start-failed';
}

/** Why a reload step failed, inside the transaction; old generations were left serving. */
export class ReloadError extends Error {
  override name = 'ReloadError';
  readonly phase: ReloadPhase;
  readonly lines: string[];
  readonly pid: number | undefined;

  constructor(message: string, options: { phase: ReloadPhase; lines?: string[]; pid?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.phase = options.phase;
    this.lines = options.lines ?? [];
    this.pid = options.pid;
  }

  get code(): ErrorCode {
    return reloadErrorCode(this.phase);
  }

  /** What waiting and new reload requests get once the supervisor is stopping. */
  static stopping(): ReloadError {
    return new ReloadError('The supervisor is stopping.', { phase: 'stopping' });
  }
}

/** Another live supervisor holds this run dir's pidfile. */
export class RunDirOwnedError extends Error {
  override name = 'RunDirOwnedError';
  readonly code = 'run-dir-owned';
  readonly pidfile: string;
  readonly pid: number | undefined;

  constructor(options: { pidfile: string; pid: number | undefined }) {
    super(`Another haproxy-supervisor (pid ${options.pid ?? 'unknown'}) owns ${options.pidfile}. Stop it first, or pass a different \`--run-dir\`.`);
    this.pidfile = options.pidfile;
    this.pid = options.pid;
  }
}

/** The run dir could be subverted by another user: the message says what is wrong and how to fix it. */
export class RunDirUnsafeError extends Error {
  override name = 'RunDirUnsafeError';
  readonly code = 'run-dir-unsafe';
  readonly runDir: string;

  /** `problem` reads after "Refusing to use ": the path, its role, and what is wrong. */
  constructor(options: { runDir: string; problem: string; fix: string }) {
    super(`Refusing to use ${options.problem}. Fix: ${options.fix}.`);
    this.runDir = options.runDir;
  }
}

/** Another supervisor, or a haproxy that is not ours, already runs this configuration or listens on its addresses. */
export class ConfigInUseError extends Error {
  override name = 'ConfigInUseError';
  readonly code = 'config-in-use';
  readonly pids: number[];

  constructor(message: string, options: { pids: number[] }) {
    super(message);
    this.pids = options.pids;
  }
}

/** `upgrade`: the successor did not take over; the running supervisor stays in charge. */
export class UpgradeError extends Error {
  override name = 'UpgradeError';
  readonly code = 'upgrade-failed';
}

/** No supervisor answers in the run dir. */
export class NotRunningError extends Error {
  override name = 'NotRunningError';
  readonly code = 'not-running';
  readonly runDir: string;

  constructor(options: { runDir: string; cause?: unknown }) {
    super(`haproxy-supervisor is not running (no answer on ${options.runDir}/control.sock).`, { cause: options.cause });
    this.runDir = options.runDir;
  }
}

/** An error reply from the daemon, carried over the control socket (a failed reload is a ReloadFailedError). */
export class RemoteError extends Error {
  override name = 'RemoteError';
  readonly code: ErrorCode;

  constructor(message: string, options: { code: ErrorCode }) {
    super(message);
    this.code = options.code;
  }
}

/** The stable code of any error: ours carry one, anything else is `failure`. */
export function errorCode(error: unknown): ErrorCode {
  const code = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return ERROR_CODES.includes(code as ErrorCode) ? (code as ErrorCode) : 'failure';
}
