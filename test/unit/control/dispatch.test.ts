import { describe, expect, it } from 'vitest';
import { dispatch, type Daemon } from '../../../src/control/dispatch.js';
import type { EnvResult, ReloadResult, Status } from '../../../src/control/types.js';

const STATUS = { supervisor: { pid: 1, state: 'running' } } as Status;

function result(fields: Partial<ReloadResult>): ReloadResult {
  return { id: 7, ok: true, mode: 'reload', triggers: ['cli'], hitless: true, startedAt: '', durationMs: 5, retired: [], warnings: [], timings: {}, ...fields };
}

let envResult: EnvResult = { ok: true, applied: 'live', changed: ['HAPROXY_MAINT'], env: { HAPROXY_MAINT: '1' }, seeded: { HAPROXY_MAINT: ['proc.maint'] }, flipped: [{ id: 3, pid: 30 }], warnings: [] };

/** A daemon that answers with `result` and records what it was asked. */
function daemon(result: ReloadResult): Daemon & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    status: () => STATUS,
    reload: (mode, trigger) => (calls.push(['reload', mode, trigger]), Promise.resolve(result)),
    stop: (options) => (calls.push(['stop', options]), Promise.resolve()),
    env: (change) => (calls.push(['env', change]), Promise.resolve(envResult)),
    history: (query) => (calls.push(['history', query]), Promise.resolve([])),
    upgrade: () => (calls.push(['upgrade']), Promise.resolve({ ok: true, previous: { pid: 1, version: '0.1.0' }, current: { pid: 2, version: '0.2.0' } })),
  };
}

describe('dispatch', () => {
  it('answers ping with the daemon’s pid and status with its status', async () => {
    expect(await dispatch(daemon(result({})), { cmd: 'ping' })).toEqual({ ok: true, result: { pid: process.pid } });
    expect(await dispatch(daemon(result({})), { cmd: 'status' })).toEqual({ ok: true, result: STATUS });
  });

  it('passes the requested mode on as a cli-triggered reload and returns a successful result as is', async () => {
    const ok = result({});
    const target = daemon(ok);
    expect(await dispatch(target, { cmd: 'reload', mode: 'reload-socket' })).toEqual({ ok: true, result: ok });
    expect(target.calls).toEqual([['reload', 'reload-socket', 'cli']]);
  });

  it('turns a failed reload into an error reply with its code, message and the whole result', async () => {
    const failed = result({ ok: false, error: { code: 'config-invalid', phase: 'check', message: 'haproxy -c rejected the configuration', lines: ['[ALERT] x'] } });
    expect(await dispatch(daemon(failed), { cmd: 'reload', mode: 'reload' })).toEqual({
      ok: false,
      error: { code: 'config-invalid', message: 'haproxy -c rejected the configuration', detail: failed },
    });
  });

  it('stops as asked and answers with the final status', async () => {
    const target = daemon(result({}));
    expect(await dispatch(target, { cmd: 'stop', hard: false, drainTimeoutMs: 5000 })).toEqual({ ok: true, result: STATUS });
    expect(await dispatch(target, { cmd: 'stop', hard: true })).toEqual({ ok: true, result: STATUS });
    expect(target.calls).toEqual([['stop', { hard: false, drainTimeoutMs: 5000 }], ['stop', { hard: true }]]);
  });

  it('passes a variable change on and answers with what it did; a change whose reload failed is that reload’s failure', async () => {
    const target = daemon(result({}));
    expect(await dispatch(target, { cmd: 'env', set: { HAPROXY_MAINT: '1' }, unset: [] })).toEqual({ ok: true, result: envResult });
    expect(target.calls).toEqual([['env', { set: { HAPROXY_MAINT: '1' }, unset: [] }]]);
    const failedReload = result({ ok: false, error: { code: 'config-invalid', phase: 'check', message: 'haproxy -c rejected the configuration', lines: [] } });
    envResult = { ...envResult, ok: false, applied: 'reload', reload: failedReload };
    expect(await dispatch(target, { cmd: 'env', set: { X: '1' }, unset: [] })).toMatchObject({ ok: false, error: { code: 'config-invalid', detail: failedReload } });
  });

  it('asks for the history with the limit, or for one entry by id', async () => {
    const target = daemon(result({}));
    expect(await dispatch(target, { cmd: 'history', limit: 5 })).toEqual({ ok: true, result: [] });
    expect(await dispatch(target, { cmd: 'history', limit: 20, id: 12 })).toEqual({ ok: true, result: [] });
    expect(target.calls).toEqual([['history', { limit: 5 }], ['history', { limit: 20, id: 12 }]]);
  });

  it('answers an upgrade with who handed over to whom', async () => {
    expect(await dispatch(daemon(result({})), { cmd: 'upgrade' })).toEqual({ ok: true, result: { ok: true, previous: { pid: 1, version: '0.1.0' }, current: { pid: 2, version: '0.2.0' } } });
  });
});
