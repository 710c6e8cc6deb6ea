import { afterEach, describe, expect, it, vi } from 'vitest';
import { Settle } from '../../../src/watch/settle.js';

afterEach(() => vi.useRealTimers());

describe('Settle', () => {
  it('acts once after a quiet period, and at the latest after the maximum wait', () => {
    vi.useFakeTimers();
    const action = vi.fn();
    const settle = new Settle({ quietMs: 250, maxWaitMs: 2000 }, action);
    settle.poke();
    vi.advanceTimersByTime(200);
    settle.poke();
    vi.advanceTimersByTime(249);
    expect(action).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(action).toHaveBeenCalledTimes(1);

    for (let elapsed = 0; elapsed < 2000; elapsed += 100) {
      settle.poke();
      vi.advanceTimersByTime(100);
    }
    expect(action).toHaveBeenCalledTimes(2); // a stream of pokes every 100 ms still acts after 2 s
  });
});
