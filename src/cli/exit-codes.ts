import type { ErrorCode } from '../control/types.js';
import { errorCode } from '../errors.js';

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
  runDirUnsafe: 14,
  upgradeFailed: 15,
  verifyFailed: 16,
} as const;

/** The one map from errors (by their stable code, local or carried over the control socket) to exit codes. */
const BY_CODE: Record<ErrorCode, number> = {
  'config-invalid': ExitCode.configInvalid,
  'start-failed': ExitCode.startFailed,
  'transfer-failed': ExitCode.transferFailed,
  'verify-failed': ExitCode.verifyFailed,
  'run-dir-owned': ExitCode.runDirOwned,
  'config-in-use': ExitCode.runDirOwned,
  'run-dir-unsafe': ExitCode.runDirUnsafe,
  'upgrade-failed': ExitCode.upgradeFailed,
  'not-running': ExitCode.notRunning,
  usage: ExitCode.usage,
  'bad-request': ExitCode.usage,
  'unknown-command': ExitCode.usage,
  'too-large': ExitCode.failure,
  busy: ExitCode.failure,
  stopping: ExitCode.failure,
  failure: ExitCode.failure,
};

/** The exit code for an error. */
export function exitCodeFor(error: unknown): number {
  return BY_CODE[errorCode(error)];
}
