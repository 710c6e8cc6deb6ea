import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatError, formatReload, formatStatus } from '../../../src/cli/output.js';
import type { ReloadResult, Status } from '../../../src/control/types.js';
import { ReloadFailedError } from '../../../src/control/reload-failed.js';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

function result(fields: Partial<ReloadResult>): ReloadResult {
  return { id: 12, ok: true, mode: 'reload', triggers: ['cli'], hitless: true, startedAt: ago(5), durationMs: 61, retired: [], warnings: [], timings: {}, ...fields };
}

function status(fields: Partial<Status> = {}): Status {
  return {
    supervisor: { pid: 4242, version: '0.1.0', startedAt: ago(3600), state: 'running', runDir: '/run/haproxy-supervisor', config: ['/etc/haproxy/haproxy.cfg'], memory: { rss: 1, heapTotal: 1, heapUsed: 1, external: 1 } },
    generations: [
      { id: 7, pid: 5120, state: 'active', startedAt: ago(60), readyAt: ago(59), usage: { listening: true, connections: { client: 40, server: 38 }, rssBytes: 12 * 1048576 } },
      { id: 6, pid: 5011, state: 'draining', startedAt: ago(600), drainingSince: ago(60), deadline: new Date(NOW + 90_000).toISOString(), usage: { listening: false, connections: { client: 3, server: 2 }, rssBytes: 9 * 1048576 } },
      { id: 5, pid: 4990, state: 'exited', startedAt: ago(900), exit: { code: null, signal: 'SIGTERM', reason: 'deadline-term', at: ago(300) } },
    ],
    lastReload: result({ retired: [{ id: 6, pid: 5011 }] }),
    reloads: [],
    crashLoop: { consecutiveCrashes: 0, looping: false },
    watch: { enabled: true, files: ['/etc/haproxy/haproxy.cfg', '/etc/haproxy/hosts.map'], directories: ['/etc/haproxy'], lastChange: { at: ago(30), files: ['/etc/haproxy/hosts.map'] } },
    env: {},
    keeper: { pid: 5000, sockets: ['127.0.0.1:80 tcp', '[::1]:443 tcp'] },
    ...fields,
  };
}

describe('status output', () => {
  beforeEach(() => vi.useFakeTimers({ now: NOW }));
  afterEach(() => vi.useRealTimers());

  it('shows one row per generation with its state, age, time to deadline, connections, RSS and how it ended', () => {
    const lines = formatStatus(status()).split('\n');
    expect(lines[0]).toBe('haproxy-supervisor 0.1.0, pid 4242, running, up 1h, run dir /run/haproxy-supervisor');
    expect(lines).toContain('GEN  PID      STATE     AGE      DEADLINE IN  CLIENTS  SERVERS  RSS     EXIT');
    expect(lines).toContain('7    5120     active    1m       -            40       38       12M');
    expect(lines).toContain('6    5011     draining  10m      90s          3        2        9M');
    expect(lines).toContain('     held by 5 connections');
    expect(lines).toContain('5    4990     exited    15m      -            -        -        -       deadline-term (SIGTERM)');
    expect(lines).toContain('last: reload #12 ok in 61 ms: no new generation, hitless (listeners transferred).');
    expect(lines).toContain('  draining: generation 6 (pid 5011)');
    expect(lines).toContain('watching 2 file(s) in 1 directory');
    expect(lines).toContain('  last change 30s ago: /etc/haproxy/hosts.map');
    expect(lines).toContain('socket keeper pid 5000 holds 127.0.0.1:80 tcp, [::1]:443 tcp');
    expect(formatStatus(status({ keeper: null }))).not.toContain('socket keeper');
  });

  it('flags a hung generation until it exits', () => {
    const hung = status({ generations: [{ id: 9, pid: 7000, state: 'active', startedAt: ago(120), hung: { at: ago(3), reason: 'process stopped (state T: SIGSTOP or a debugger)' } }] });
    expect(formatStatus(hung)).toContain('\n     HUNG for 3s: process stopped (state T: SIGSTOP or a debugger)');
  });

  it('shows a crash loop and a watch error, and says when it is not watching', () => {
    const looping = formatStatus(status({ crashLoop: { consecutiveCrashes: 4, looping: true, lastError: 'generation 9 exited (SIGSEGV)' } }));
    expect(looping).toContain('CRASH LOOP: 4 crashes; last: generation 9 exited (SIGSEGV)');
    const broken = formatStatus(status({ watch: { enabled: true, files: [], directories: [], lastError: 'haproxy -c rejected the configuration:\n[ALERT] x' } }));
    expect(broken).toContain('  error: haproxy -c rejected the configuration:\n         [ALERT] x');
    expect(formatStatus(status({ watch: { enabled: false, files: [], directories: [] } }))).toContain('not watching (--no-watch): reloads happen on request only');
  });
});

describe('reload output', () => {
  it('says whether a reload was hitless and which generations drain', () => {
    expect(formatReload(result({ generation: { id: 8, pid: 6000 }, retired: [{ id: 7, pid: 5120 }] }))).toBe(
      'reload #12 ok in 61 ms: generation 8 (pid 6000) serves, hitless (listeners transferred).\n  draining: generation 7 (pid 5120)',
    );
    expect(formatReload(result({ hitless: false, generation: { id: 8, pid: 6000 }, warnings: ['Socket transfer failed'] }))).toBe(
      'reload #12 ok in 61 ms: generation 8 (pid 6000) serves, NOT hitless (no socket transfer).\n  warning: Socket transfer failed',
    );
  });

  it('shows a failure with its phase, its message and haproxy’s lines not already quoted', () => {
    const failed = result({ ok: false, error: { code: 'start-failed', phase: 'spawn', message: 'The new generation failed to start', lines: ['[ALERT] cannot bind'] } });
    expect(formatReload(failed)).toBe('reload #12 FAILED (spawn) after 61 ms; the running generation keeps serving.\n  The new generation failed to start\n  [ALERT] cannot bind');
    expect(formatError(new ReloadFailedError(failed))).toBe(formatReload(failed));
  });

  it('shows a failed first start as its message and haproxy’s lines', () => {
    const start = result({ mode: 'start', ok: false, error: { code: 'config-invalid', phase: 'check', message: 'haproxy -c rejected the configuration:\n[ALERT] x', lines: ['[ALERT] x'] } });
    expect(formatError(new ReloadFailedError(start))).toBe('haproxy -c rejected the configuration:\n[ALERT] x');
  });
});
