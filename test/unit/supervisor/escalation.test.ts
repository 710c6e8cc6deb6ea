import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EscalationLadder } from '../../../src/supervisor/escalation.js';
import { exitReason } from '../../../src/supervisor/generation.js';
import { FakeGeneration } from '../../helpers/fake-generation.js';

describe('EscalationLadder', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('drains with SIGUSR1 now, SIGTERM at the deadline and SIGKILL kill-grace later, recording each rung', () => {
    const ladder = new EscalationLadder({ killGraceMs: 10_000, maxDraining: 20 });
    const steps: string[] = [];
    ladder.on('step', (generation, step, cause, outcome) => steps.push(`${generation.id}:${step}:${cause}:${outcome}`));
    const generation = new FakeGeneration(1, { state: 'active' });
    expect(ladder.drain(generation, new Date(Date.now() + 30_000))).toBe('sent');
    expect(generation.state).toBe('draining');
    expect(generation.signals).toEqual(['SIGUSR1']);
    expect(generation.record.escalation).toBeUndefined();
    vi.advanceTimersByTime(29_999);
    expect(generation.signals).toEqual(['SIGUSR1']);
    vi.advanceTimersByTime(1);
    expect(generation.signals).toEqual(['SIGUSR1', 'SIGTERM']);
    expect(generation.record.escalation).toBe('term');
    expect(exitReason(generation.record)).toBe('deadline-term');
    vi.advanceTimersByTime(9_999);
    expect(generation.signals).toEqual(['SIGUSR1', 'SIGTERM']);
    vi.advanceTimersByTime(1);
    expect(generation.signals).toEqual(['SIGUSR1', 'SIGTERM', 'SIGKILL']);
    expect(exitReason(generation.record)).toBe('deadline-kill');
    expect(steps).toEqual(['1:soft:deadline:sent', '1:term:deadline:sent', '1:kill:deadline:sent']);
  });

  it('keeps the first deadline when a draining generation is drained again', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 20 });
    const generation = new FakeGeneration(1, { state: 'active' });
    ladder.drain(generation, new Date(Date.now() + 5_000));
    const deadline = generation.record.deadline;
    ladder.drain(generation, new Date(Date.now() + 60_000));
    expect(generation.record.deadline).toBe(deadline);
    vi.advanceTimersByTime(5_000);
    expect(generation.signals).toEqual(['SIGUSR1', 'SIGUSR1', 'SIGTERM']);
  });

  it('does nothing more once a generation is forgotten (it exited)', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 20 });
    const generation = new FakeGeneration(1, { state: 'active' });
    ladder.drain(generation, new Date(Date.now() + 5000));
    ladder.forget(generation);
    vi.advanceTimersByTime(60_000);
    expect(generation.signals).toEqual(['SIGUSR1']);
  });

  it('escalates the oldest draining generations beyond --max-draining at once', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 2 });
    const generations = [1, 2, 3, 4].map((id) => new FakeGeneration(id, { state: 'active' }));
    for (const generation of generations) ladder.drain(generation, new Date(Date.now() + 60_000));
    ladder.enforceCap(generations);
    expect(generations.map((generation) => generation.signals)).toEqual([['SIGUSR1', 'SIGTERM'], ['SIGUSR1', 'SIGTERM'], ['SIGUSR1'], ['SIGUSR1']]);
    vi.advanceTimersByTime(1000);
    expect(generations.map((generation) => generation.signals.at(-1))).toEqual(['SIGKILL', 'SIGKILL', 'SIGUSR1', 'SIGUSR1']);
  });

  it('expedite moves a deadline earlier, never later', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 20 });
    const generation = new FakeGeneration(1, { state: 'active' });
    ladder.drain(generation, new Date(Date.now() + 60_000));
    ladder.expedite(generation, new Date(Date.now() + 120_000));
    ladder.expedite(generation, new Date(Date.now() + 5_000));
    vi.advanceTimersByTime(5_000);
    expect(generation.signals).toEqual(['SIGUSR1', 'SIGTERM']);
  });

  it('terminates with SIGTERM now and SIGKILL kill-grace later, recorded as terminated whatever it took', () => {
    const ladder = new EscalationLadder({ killGraceMs: 2000, maxDraining: 20 });
    const generation = new FakeGeneration(1, { state: 'active' });
    ladder.terminate(generation);
    expect(generation.signals).toEqual(['SIGTERM']);
    vi.advanceTimersByTime(2000);
    expect(generation.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(generation.record.escalation).toBe('terminate');
    expect(exitReason(generation.record)).toBe('terminated');
  });

  it('abandons a generation that never served with SIGUSR1, then SIGKILL, recorded as a failed start', () => {
    const ladder = new EscalationLadder({ killGraceMs: 2000, maxDraining: 20 });
    const generation = new FakeGeneration(1);
    ladder.abandon(generation);
    expect(generation.signals).toEqual(['SIGUSR1']);
    expect(generation.state).toBe('starting');
    vi.advanceTimersByTime(2000);
    expect(generation.signals).toEqual(['SIGUSR1', 'SIGKILL']);
    expect(exitReason(generation.record)).toBe('failed-start');
  });

  it('terminates a hung generation with SIGTERM and SIGCONT now, SIGKILL kill-grace later, recorded as hung', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 20 });
    const generation = new FakeGeneration(1, { state: 'active' });
    ladder.terminateHung(generation);
    expect(generation.signals).toEqual(['SIGTERM', 'SIGCONT']);
    vi.advanceTimersByTime(1000);
    expect(generation.signals).toEqual(['SIGTERM', 'SIGCONT', 'SIGKILL']);
    expect(exitReason(generation.record, { code: null, signal: 'SIGKILL' })).toBe('hung');
  });

  it('resumes an adopted generation where its record says: a passed deadline at once, an escalated one with SIGKILL', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 20 });
    const overdue = new FakeGeneration(1, { state: 'draining', deadlineInMs: -5000 });
    const escalated = new FakeGeneration(2, { state: 'draining', deadlineInMs: -5000, record: { escalation: 'term' } });
    ladder.resume(overdue);
    ladder.resume(escalated);
    vi.advanceTimersByTime(0);
    expect(overdue.signals).toEqual(['SIGTERM']);
    expect(escalated.signals).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(overdue.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(escalated.signals).toEqual(['SIGKILL']);
  });

  it('reports a recycled pid without signalling it', () => {
    const ladder = new EscalationLadder({ killGraceMs: 1000, maxDraining: 20 });
    const outcomes: string[] = [];
    ladder.on('step', (_generation, _step, _cause, outcome) => outcomes.push(outcome));
    const generation = new FakeGeneration(1, { state: 'active' });
    generation.outcome = 'recycled';
    expect(ladder.drain(generation, new Date(Date.now() + 1000))).toBe('recycled');
    expect(outcomes).toEqual(['recycled']);
  });
});
