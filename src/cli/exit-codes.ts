import { HaproxyCheckError, NotRunningError, OptionError, ReloadError, RemoteError, RunDirOwnedError, errorCode } from '../errors.js';

/** Every exit code of the CLI (README, "Exit codes"). 0–3 follow LSB where they overlap. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notRunning: 3,
  configInvalid: 10,
  startFailed: 11,
  runDirOwned: 12,
  transferFailed: 13,
} as const;

const BY_CODE: Record<string, number> = {
  'config-invalid': ExitCode.configInvalid,
  'start-failed': ExitCode.startFailed,
  'transfer-failed': ExitCode.transferFailed,
  'run-dir-owned': ExitCode.runDirOwned,
  usage: ExitCode.usage,
  'bad-request': ExitCode.usage,
  'unknown-command': ExitCode.usage,
};

/** The one map from errors to exit codes. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof NotRunningError) return ExitCode.notRunning;
  if (error instanceof OptionError) return ExitCode.usage;
  if (error instanceof RunDirOwnedError) return ExitCode.runDirOwned;
  if (error instanceof HaproxyCheckError) return ExitCode.configInvalid;
  if (error instanceof RemoteError) return BY_CODE[error.code] ?? ExitCode.failure;
  if (error instanceof ReloadError) return BY_CODE[errorCode(error)] ?? ExitCode.failure;
  return ExitCode.failure;
}
