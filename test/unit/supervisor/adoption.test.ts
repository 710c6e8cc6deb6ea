import { describe, expect, it } from 'vitest';
import type { GenerationState } from '../../../src/control/types.js';
import { masterAndWorkers, planAdoption, type Candidate, type Liveness } from '../../../src/supervisor/adoption.js';
import type { GenerationRecord } from '../../../src/supervisor/generation.js';

/** A found generation: its id, what state.json said (undefined: not named), how it answered, and record extras. */
function found(id: number, recorded: GenerationState | undefined, liveness: Liveness, extra: Partial<GenerationRecord> = {}): Candidate {
  const record: GenerationRecord = { id, pid: 100 + id, startTime: 1, startedAt: '', socket: `/run/gen/${id}.sock`, state: recorded ?? 'starting', adopted: true, ...extra };
  return { record, recorded: recorded !== undefined, liveness };
}

describe('planAdoption', () => {
  it('keeps the recorded active generation and drains a newer one that serves but was never accepted (killed after ready)', () => {
    expect(planAdoption([found(1, 'active', 'serving'), found(2, undefined, 'serving')])).toEqual({ active: 1, resume: [], drain: [2], abandon: [], terminate: [] });
    expect(planAdoption([found(1, 'active', 'serving'), found(2, 'starting', 'serving')])).toMatchObject({ active: 1, drain: [2] });
  });

  it('abandons a newer generation still starting (killed after the spawn)', () => {
    expect(planAdoption([found(1, 'active', 'serving'), found(2, undefined, 'silent')])).toEqual({ active: 1, resume: [], drain: [], abandon: [2], terminate: [] });
  });

  it('makes the newest serving generation active when the recorded one stopped listening (killed after SIGUSR1)', () => {
    expect(planAdoption([found(1, 'active', 'stopping'), found(2, 'starting', 'serving')])).toEqual({ active: 2, resume: [], drain: [1], abandon: [], terminate: [] });
  });

  it('with two recorded active (killed between activate and retire) keeps the newest and drains the older', () => {
    expect(planAdoption([found(1, 'active', 'serving'), found(2, 'active', 'serving')])).toMatchObject({ active: 2, drain: [1] });
  });

  it('resumes draining and escalated generations whatever they answer, and terminates a hung one', () => {
    const plan = planAdoption([found(1, 'draining', 'stopping'), found(2, 'active', 'silent', { escalation: 'term' }), found(3, 'active', 'silent', { hung: { at: '', reason: 'stopped' } }), found(4, 'active', 'serving')]);
    expect(plan).toEqual({ active: 4, resume: [2, 1], drain: [], abandon: [], terminate: [3] });
  });

  it('keeps a silent recorded active generation active when nothing serves (the watchdog decides), and has none when nothing was ever accepted', () => {
    expect(planAdoption([found(3, 'active', 'silent'), found(4, undefined, 'silent')])).toEqual({ active: 3, resume: [], drain: [], abandon: [4], terminate: [] });
    expect(planAdoption([found(4, undefined, 'silent')])).toEqual({ active: undefined, resume: [], drain: [], abandon: [4], terminate: [] });
    expect(planAdoption([])).toEqual({ active: undefined, resume: [], drain: [], abandon: [], terminate: [] });
  });

  it('promotes a generation that serves although state.json never named it when no recorded one serves (killed during a crash respawn)', () => {
    expect(planAdoption([found(5, undefined, 'serving')])).toEqual({ active: 5, resume: [], drain: [], abandon: [], terminate: [] });
  });
});

describe('masterAndWorkers (run --takeover)', () => {
  const parents: Record<number, number> = { 10: 1, 11: 10, 12: 10, 20: 1 };
  const parentOf = (pid: number): number | undefined => parents[pid];
  const isHaproxy = (pid: number): boolean => pid !== 1;

  it('takes the socket holders as workers and their haproxy parent as the master', () => {
    expect(masterAndWorkers([11], parentOf, isHaproxy)).toEqual({ workers: [11], masters: [10] });
    expect(masterAndWorkers([11, 12], parentOf, isHaproxy)).toEqual({ workers: [11, 12], masters: [10] });
  });

  it('knows a master that still holds the socket (forked its worker, not yet re-executed into wait mode)', () => {
    expect(masterAndWorkers([10, 11], parentOf, isHaproxy)).toEqual({ workers: [11], masters: [10] });
  });

  it('takes a holder whose parent is no haproxy as a worker with no master (haproxy -D, or a parent gone)', () => {
    expect(masterAndWorkers([20], parentOf, isHaproxy)).toEqual({ workers: [20], masters: [] });
    expect(masterAndWorkers([30], parentOf, isHaproxy)).toEqual({ workers: [30], masters: [] });
  });
});
