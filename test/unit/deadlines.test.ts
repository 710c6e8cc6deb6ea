import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../src/supervisor/deadlines.js';
import type { Escalation, Generation, GenerationRecord } from '../../src/supervisor/generation.js';

/** A stand-in generation: records escalations instead of signalling a process. */
function fakeGeneration(id: number, deadlineInMs: number): Generation & { escalations: Escalation[] } {
  const record: GenerationRecord = {
    id,
    pid: 1000 + id,
    startTime: 1,
    startedAt: new Date().toISOString(),
    socket: '',
    state: 'draining',
    deadline: new Date(Date.now() + deadlineInMs).toISOString(),
  };
  const escalations: Escalation[] = [];
  return {
    id,
    record,
    log: pino({ level: 'silent' }),
    escalations,
    escalate(escalation: Escalation) {
      record.escalation = escalation;
      escalations.push(escalation);
      return 'sent';
    },
  } as unknown as Generation & { escalations: Escalation[] };
}

describe('Deadlines', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends SIGTERM at the deadline and SIGKILL kill-grace later', () => {
    const deadlines = new Deadlines({ killGraceMs: 10_000, maxDraining: 20 });
    const generation = fakeGeneration(1, 30_000);
    deadlines.track(generation);
    vi.advanceTimersByTime(29_999);
    expect(generation.escalations).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(generation.escalations).toEqual(['term']);
    vi.advanceTimersByTime(9_999);
    expect(generation.escalations).toEqual(['term']);
    vi.advanceTimersByTime(1);
    expect(generation.escalations).toEqual(['term', 'kill']);
  });

  it('does nothing more once a generation is forgotten (it exited)', () => {
    const deadlines = new Deadlines({ killGraceMs: 1000, maxDraining: 20 });
    const generation = fakeGeneration(1, 5000);
    deadlines.track(generation);
    deadlines.forget(generation);
    vi.advanceTimersByTime(60_000);
    expect(generation.escalations).toEqual([]);
  });

  it('escalates the oldest draining generations beyond --max-draining at once', () => {
    const deadlines = new Deadlines({ killGraceMs: 1000, maxDraining: 2 });
    const generations = [1, 2, 3, 4].map((id) => fakeGeneration(id, 60_000));
    for (const generation of generations) deadlines.track(generation);
    deadlines.enforceCap(generations);
    expect(generations.map((generation) => generation.escalations)).toEqual([['term'], ['term'], [], []]);
    vi.advanceTimersByTime(1000);
    expect(generations.map((generation) => generation.escalations)).toEqual([['term', 'kill'], ['term', 'kill'], [], []]);
  });

  it('expedite moves a deadline earlier, never later', () => {
    const deadlines = new Deadlines({ killGraceMs: 1000, maxDraining: 20 });
    const generation = fakeGeneration(1, 60_000);
    deadlines.track(generation);
    deadlines.expedite(generation, new Date(Date.now() + 120_000));
    deadlines.expedite(generation, new Date(Date.now() + 5_000));
    vi.advanceTimersByTime(5_000);
    expect(generation.escalations).toEqual(['term']);
  });
});
