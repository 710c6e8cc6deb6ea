import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../src/cli/exit-codes.js';
import type { ReloadResult } from '../../../src/control/types.js';
import { ReloadFailedError } from '../../../src/control/reload-failed.js';
import { ConfigInUseError, HaproxyCheckError, NotRunningError, OptionError, ReloadError, RemoteError, RunDirOwnedError, RunDirUnsafeError, UpgradeError } from '../../../src/errors.js';

function failed(code: NonNullable<ReloadResult['error']>['code']): ReloadResult {
  const error = { code, phase: 'check' as const, message: 'x', lines: [] };
  return { id: 1, ok: false, mode: 'reload', triggers: ['cli'], hitless: false, startedAt: '', durationMs: 1, retired: [], warnings: [], timings: {}, error };
}

describe('exit codes', () => {
  it('maps each local error to its documented code', () => {
    expect(exitCodeFor(new OptionError('x'))).toBe(2);
    expect(exitCodeFor(new NotRunningError({ runDir: '/r' }))).toBe(3);
    expect(exitCodeFor(new HaproxyCheckError({ command: 'haproxy -c', exitCode: 1, lines: [] }))).toBe(10);
    expect(exitCodeFor(new ReloadError('x', { phase: 'check' }))).toBe(10);
    expect(exitCodeFor(new ReloadError('x', { phase: 'lint' }))).toBe(10);
    expect(exitCodeFor(new ReloadError('x', { phase: 'spawn' }))).toBe(11);
    expect(exitCodeFor(new ReloadError('x', { phase: 'ready' }))).toBe(11);
    expect(exitCodeFor(new RunDirOwnedError({ pidfile: '/r/supervisor.pid', pid: 1 }))).toBe(12);
    expect(exitCodeFor(new ReloadError('x', { phase: 'transfer' }))).toBe(13);
    expect(exitCodeFor(new ReloadError('x', { phase: 'verify' }))).toBe(16);
    expect(exitCodeFor(new ReloadError('x', { phase: 'stopping' }))).toBe(1);
    expect(exitCodeFor(new UpgradeError('x'))).toBe(15);
    expect(exitCodeFor(new RunDirUnsafeError({ runDir: '/r', problem: 'x', fix: 'y' }))).toBe(14);
    expect(exitCodeFor(new ConfigInUseError('x', { pids: [1] }))).toBe(12);
    expect(exitCodeFor(new Error('x'))).toBe(1);
    expect(exitCodeFor('not even an error')).toBe(1);
  });

  it('maps errors carried over the control socket by their code, a failed reload by its result', () => {
    expect(exitCodeFor(new RemoteError('x', { code: 'config-invalid' }))).toBe(10);
    expect(exitCodeFor(new RemoteError('x', { code: 'bad-request' }))).toBe(2);
    expect(exitCodeFor(new RemoteError('x', { code: 'unknown-command' }))).toBe(2);
    expect(exitCodeFor(new RemoteError('x', { code: 'stopping' }))).toBe(1);
    expect(exitCodeFor(new ReloadFailedError(failed('config-invalid')))).toBe(10);
    expect(exitCodeFor(new ReloadFailedError(failed('start-failed')))).toBe(11);
    expect(exitCodeFor(new ReloadFailedError(failed('transfer-failed')))).toBe(13);
  });

  it('keeps the underlying error as cause', () => {
    const cause = new Error('spawn ENOENT');
    expect(new ReloadError('x', { phase: 'spawn', cause }).cause).toBe(cause);
    expect(new NotRunningError({ runDir: '/r', cause }).cause).toBe(cause);
  });
});
