import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { installSignalPolicy } from '../../../src/supervisor/signal-policy.js';

describe('signal policy', () => {
  it('maps HUP/USR2 to reloads, TERM/INT to a graceful stop and QUIT to a hard stop', async () => {
    const source = new EventEmitter();
    const supervisor = {
      reload: vi.fn(() => Promise.resolve({ id: 1, ok: true } as never)),
      stop: vi.fn(() => Promise.resolve()),
    };
    installSignalPolicy(supervisor, pino({ level: 'silent' }), source);
    for (const signal of ['SIGHUP', 'SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGQUIT']) source.emit(signal);
    await Promise.resolve();
    expect(supervisor.reload.mock.calls).toEqual([
      ['reload', 'signal'],
      ['reload', 'signal'],
    ]);
    expect(supervisor.stop.mock.calls).toEqual([[{ hard: false }], [{ hard: false }], [{ hard: true }]]);
  });
});
