import { constants, PerformanceObserver } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleGc } from '../../../src/system/idle-gc.js';

describe('IdleGc', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('collects once, quietMs after the last of a burst of pokes', () => {
    const collect = vi.fn();
    const gc = new IdleGc({ quietMs: 200, minIntervalMs: 1000, collect });
    for (let index = 0; index < 5; index++) {
      gc.poke();
      vi.advanceTimersByTime(100);
    }
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(1);
  });

  it('collects at most once per minIntervalMs under a steady stream of work', () => {
    const collect = vi.fn();
    const gc = new IdleGc({ quietMs: 200, minIntervalMs: 1000, collect });
    gc.poke();
    vi.advanceTimersByTime(200);
    expect(collect).toHaveBeenCalledTimes(1);
    gc.poke(); // at 200 ms: the next may come at 1200 ms, not at 400 ms
    vi.advanceTimersByTime(999);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('collects nothing once cancelled (the daemon closing)', () => {
    const collect = vi.fn();
    const gc = new IdleGc({ quietMs: 200, minIntervalMs: 1000, collect });
    gc.poke();
    gc.cancel();
    vi.advanceTimersByTime(5000);
    expect(collect).not.toHaveBeenCalled();
  });

  it('runs V8\'s real full (major) GC by default', async () => {
    vi.useRealTimers();
    const majors: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (((entry as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(entry.startTime);
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      await new Promise((resolve) => setTimeout(resolve, 20)); // entries from before the poke are delivered first
      majors.length = 0;
      new IdleGc({ quietMs: 0, minIntervalMs: 0 }).poke();
      await expect.poll(() => majors.length, { timeout: 2000 }).toBeGreaterThan(0);
    } finally {
      observer.disconnect();
    }
  });
});
