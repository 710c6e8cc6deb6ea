/** Error classes with context; cli/exit-codes.ts is the only map from them to exit codes. */

/** A bad option value; the message names the option, the value and what was expected. */
export class OptionError extends Error {
  override name = 'OptionError';
}

/** `haproxy -c` rejected the configuration; `lines` are haproxy's own ALERT/WARNING lines. */
export class HaproxyCheckError extends Error {
  override name = 'HaproxyCheckError';
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly lines: string[],
    options?: ErrorOptions,
  ) {
    super(`haproxy rejected the configuration (exit ${exitCode ?? 'none'}):\n${lines.join('\n')}`, options);
  }
}

/** Where a reload failed. `check`/`lint`: configuration; `spawn`/`ready`: the new generation; `transfer`: -x. */
export type ReloadPhase = 'lint' | 'check' | 'spawn' | 'ready' | 'transfer' | 'stopping';

/** A reload that did not produce a serving new generation; old generations were left serving. */
export class ReloadError extends Error {
  override name = 'ReloadError';
  constructor(
    message: string,
    readonly phase: ReloadPhase,
    readonly lines: string[] = [],
    readonly pid?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Another live supervisor holds this run dir's pidfile. */
export class RunDirOwnedError extends Error {
  override name = 'RunDirOwnedError';
  constructor(
    readonly pidfile: string,
    readonly pid: number | undefined,
  ) {
    super(
      `Another haproxy-supervisor (pid ${pid ?? 'unknown'}) owns ${pidfile}. ` +
        'Stop it first, or pass a different `--run-dir`.',
    );
  }
}

/** No supervisor answers in the run dir. */
export class NotRunningError extends Error {
  override name = 'NotRunningError';
  constructor(readonly runDir: string, options?: ErrorOptions) {
    super(`haproxy-supervisor is not running (no answer on ${runDir}/control.sock).`, options);
  }
}

/** An error reply from the daemon, carried over the control socket. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    message: string,
    readonly code: string,
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

/** Stable error codes in control-socket replies, so the client can map them to exit codes. */
export function errorCode(error: unknown): string {
  if (error instanceof HaproxyCheckError) return 'config-invalid';
  if (error instanceof ReloadError) {
    if (error.phase === 'check' || error.phase === 'lint') return 'config-invalid';
    if (error.phase === 'transfer') return 'transfer-failed';
    if (error.phase === 'stopping') return 'stopping';
    return 'start-failed';
  }
  if (error instanceof OptionError) return 'usage';
  if (error instanceof RunDirOwnedError) return 'run-dir-owned';
  return 'failure';
}
