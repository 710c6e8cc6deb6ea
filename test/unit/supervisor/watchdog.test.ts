import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Generation } from '../../../src/supervisor/generation.js';
import { Watchdog } from '../../../src/supervisor/watchdog.js';
import { FakeGeneration } from '../../helpers/fake-generation.js';

describe('Watchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function watch(active: { generation: Generation | undefined }, answers: Array<string | undefined>) {
    const probed: number[] = [];
    const hung: Array<[number, string]> = [];
    const watchdog = new Watchdog({ intervalMs: 1000, misses: 3 }, { active: () => active.generation }, pino({ level: 'silent' }), (generation) => {
      probed.push(generation.id);
      return Promise.resolve(answers.length > 0 ? answers.shift() : undefined);
    });
    watchdog.on('hung', (generation, reason) => hung.push([generation.id, reason]));
    watchdog.start();
    return { watchdog, probed, hung };
  }

  it('reports the active generation hung after 3 missed probes in a row, once', async () => {
    const active = { generation: new FakeGeneration(4, { state: 'active' }) as Generation | undefined };
    const { watchdog, probed, hung } = watch(active, ['no answer', 'no answer', 'no answer']);
    await vi.advanceTimersByTimeAsync(2999);
    expect(hung).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(probed).toEqual([4, 4, 4]);
    expect(hung).toEqual([[4, 'no answer']]);
    watchdog.stop();
  });

  it('forgets misses once the generation answers, and starts over for a new active generation', async () => {
    const first = new FakeGeneration(1, { state: 'active' });
    const active = { generation: first as Generation | undefined };
    const { watchdog, hung } = watch(active, ['slow', 'slow', undefined, 'slow', 'slow']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(hung).toEqual([]);
    active.generation = new FakeGeneration(2, { state: 'active' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(hung).toEqual([]);
    watchdog.stop();
  });

  it('leaves a generation already marked hung to its replacement, and probes nothing when none is active', async () => {
    const marked = new FakeGeneration(3, { state: 'active', record: { hung: { at: '', reason: 'x' } } });
    const active = { generation: marked as Generation | undefined };
    const { watchdog, probed } = watch(active, []);
    await vi.advanceTimersByTimeAsync(3000);
    active.generation = undefined;
    await vi.advanceTimersByTimeAsync(3000);
    expect(probed).toEqual([]);
    watchdog.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(probed).toEqual([]);
  });
});
