import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { ReloadMode, ReloadResult, ReloadTrigger } from '../../../src/control/types.js';
import { RespawnPolicy, Respawner, type ReloadRequests } from '../../../src/supervisor/respawn.js';
import { FakeGeneration } from '../../helpers/fake-generation.js';

describe('RespawnPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('replaces the first crash at once, then backs off doubling up to the cap', () => {
    const policy = new RespawnPolicy({ backoffMs: 1000, backoffMaxMs: 4000, resetAfterMs: 10_000 });
    expect(policy.crashed(60_000, 'x')).toBe(0);
    expect(policy.crashed(100, 'x')).toBe(1000);
    expect(policy.failedAttempt('x')).toBe(2000);
    expect(policy.failedAttempt('x')).toBe(4000);
    expect(policy.failedAttempt('x')).toBe(4000);
    expect(policy.looping).toBe(true);
    expect(policy.status()).toMatchObject({ consecutiveCrashes: 5, lastError: 'x' });
  });

  it('forgets earlier crashes once a generation served long enough', () => {
    const policy = new RespawnPolicy({ backoffMs: 1000, backoffMaxMs: 30_000, resetAfterMs: 10_000 });
    policy.crashed(100, 'a');
    policy.crashed(100, 'b');
    expect(policy.crashed(10_000, 'c')).toBe(0);
    expect(policy.status().consecutiveCrashes).toBe(1);
  });
});

/** Records the respawns asked of the queue. */
class FakeQueue implements ReloadRequests {
  readonly requests: Array<[ReloadMode, ReloadTrigger]> = [];
  request(mode: ReloadMode, trigger: ReloadTrigger): Promise<ReloadResult> {
    this.requests.push([mode, trigger]);
    return Promise.reject(new Error('not run in this test'));
  }
}

const OK: ReloadResult = { id: 1, ok: true, mode: 'respawn', triggers: ['crash'], hitless: false, startedAt: '', durationMs: 1, retired: [], warnings: [], timings: {}, generation: { id: 3, pid: 3 } };

describe('Respawner', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function crashedGeneration(servedMs: number): FakeGeneration {
    const generation = new FakeGeneration(2, { state: 'active', record: { readyAt: new Date(Date.now() - servedMs).toISOString(), exit: { code: null, signal: 'SIGKILL', reason: 'crashed', at: '' } } });
    generation.remember('[ALERT] out of memory');
    return generation;
  }

  it('asks the queue for a respawn at once after a first crash, and says why in status', async () => {
    const queue = new FakeQueue();
    const respawner = new Respawner({ backoffMs: 1000, backoffMaxMs: 4000, resetAfterMs: 10_000 }, queue, pino({ level: 'silent' }));
    respawner.crashed(crashedGeneration(60_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.requests).toEqual([['respawn', 'crash']]);
    expect(respawner.status()).toMatchObject({ consecutiveCrashes: 1, looping: false, lastError: 'generation 2 exited (SIGKILL): [ALERT] out of memory' });
  });

  it('backs off while replacements keep dying, with one attempt pending at a time, and stops backing off once one serves', async () => {
    const queue = new FakeQueue();
    const respawner = new Respawner({ backoffMs: 1000, backoffMaxMs: 4000, resetAfterMs: 10_000 }, queue, pino({ level: 'silent' }));
    respawner.crashed(crashedGeneration(100));
    await vi.advanceTimersByTimeAsync(0);
    respawner.crashed(crashedGeneration(100));
    respawner.reloaded({ ...OK, ok: false, generation: undefined }, true);
    await vi.advanceTimersByTimeAsync(999);
    expect(queue.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(queue.requests).toHaveLength(2);
    expect(respawner.status().looping).toBe(true);
    respawner.reloaded(OK, false);
    expect(respawner.status().nextAttemptAt).toBeUndefined();
  });

  it('drops a pending attempt when cancelled (stopping)', async () => {
    const queue = new FakeQueue();
    const respawner = new Respawner({ backoffMs: 1000, backoffMaxMs: 4000, resetAfterMs: 10_000 }, queue, pino({ level: 'silent' }));
    respawner.reloaded({ ...OK, ok: false, generation: undefined }, true);
    respawner.cancel();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queue.requests).toEqual([]);
  });
});
