import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import type { ReloadMode, ReloadResult, ReloadTrigger } from '../../../src/control/types.js';
import { RespawnPolicy, Respawner, type ReloadRequests } from '../../../src/supervisor/respawn.js';
import { FakeGeneration } from '../../helpers/fake-generation.js';

describe('RespawnPolicy', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('replaces a generation that had served at once, however often it crashes, and shows the loop', () => {
    const policy = new RespawnPolicy({ backoffMs: 250, backoffMaxMs: 5000, resetAfterMs: 10_000 });
    for (let crash = 0; crash < 8; crash++) {
      expect(policy.crashed(1500, `crash ${crash}`)).toBe(0);
      vi.advanceTimersByTime(1500);
    }
    expect(policy.status()).toMatchObject({ consecutiveCrashes: 8, looping: true, lastError: 'crash 7' });
  });

  it('backs off only attempts that do not serve: small, doubling, capped; a generation that serves resets it', () => {
    const policy = new RespawnPolicy({ backoffMs: 250, backoffMaxMs: 2000, resetAfterMs: 10_000 });
    expect([1, 2, 3, 4, 5].map(() => policy.failedAttempt('exits at once'))).toEqual([250, 500, 1000, 2000, 2000]);
    expect(policy.looping).toBe(true);
    policy.recovered();
    expect(policy.failedAttempt('again')).toBe(250);
  });

  it('ends a crash loop once a generation served --respawn-reset-after', () => {
    const policy = new RespawnPolicy({ backoffMs: 1000, backoffMaxMs: 30_000, resetAfterMs: 10_000 });
    policy.crashed(100, 'a');
    policy.crashed(100, 'b');
    expect(policy.crashed(10_000, 'c')).toBe(0);
    expect(policy.status()).toMatchObject({ consecutiveCrashes: 1, looping: false });
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

  it('asks the queue for a respawn in the same tick the crash is seen, and says why in status', () => {
    const queue = new FakeQueue();
    const respawner = new Respawner({ backoffMs: 1000, backoffMaxMs: 4000, resetAfterMs: 10_000 }, queue, pino({ level: 'silent' }));
    respawner.crashed(crashedGeneration(60_000));
    expect(queue.requests).toEqual([['respawn', 'crash']]);
    expect(respawner.status()).toMatchObject({ consecutiveCrashes: 1, looping: false, lastError: 'generation 2 exited (SIGKILL): [ALERT] out of memory' });
  });

  it('retries an attempt that left nothing serving after the backoff, one pending at a time, and forgets it once something serves', async () => {
    const queue = new FakeQueue();
    const respawner = new Respawner({ backoffMs: 1000, backoffMaxMs: 4000, resetAfterMs: 10_000 }, queue, pino({ level: 'silent' }));
    const failed = { ...OK, ok: false, generation: undefined };
    respawner.reloaded(failed, true);
    respawner.reloaded(failed, true);
    await vi.advanceTimersByTimeAsync(999);
    expect(queue.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(queue.requests).toEqual([['respawn', 'crash']]);
    respawner.reloaded(failed, true);
    respawner.reloaded(OK, false); // an explicit reload served meanwhile
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queue.requests).toHaveLength(1);
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
