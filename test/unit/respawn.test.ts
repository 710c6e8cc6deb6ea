import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RespawnPolicy } from '../../src/supervisor/respawn.js';

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
