import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import pino from 'pino';
import type { GenerationRecord } from '../../../src/supervisor/generation.js';
import { EMPTY_STATE, IdReservation, loadState, parseState, RESERVED_IDS, StateStore } from '../../../src/supervisor/state-file.js';

const tempDir = useTempDirs();

/** A StateStore on a temp file that counts its writes; `save(n)` saves a state whose nextGenerationId is n, `written()` reads it back. */
function countingStore(): { store: StateStore; save: (index: number) => void; writes: () => number; written: () => number } {
  const file = path.join(tempDir(), 'state.json');
  let writes = 0;
  // Counts serializations, i.e. writes: JSON.stringify calls toJSON once per write.
  const generations = Object.assign([], { toJSON: () => (writes++, []) });
  const store = new StateStore(file, pino({ level: 'silent' }));
  return {
    store,
    save: (index) => store.save(() => ({ ...EMPTY_STATE, nextGenerationId: index, generations })),
    writes: () => writes,
    written: () => parseState(readFileSync(file, 'utf8')).nextGenerationId,
  };
}

/** Runs `body` on vitest's fake timers, and back on real ones whatever happens. */
function onFakeTimers(body: () => void): void {
  vi.useFakeTimers();
  try {
    body();
  } finally {
    vi.useRealTimers();
  }
}

describe('state.json', () => {
  it('collapses bursts of saves into few writes that end with the newest state', async () => {
    const file = path.join(tempDir(), 'state.json');
    let writes = 0;
    // Counts serializations, i.e. writes: JSON.stringify calls toJSON once per write.
    const generations = Object.assign([], { toJSON: () => (writes++, []) });
    const store = new StateStore(file, pino({ level: 'silent' }));
    let taken = 0;
    for (let index = 1; index <= 50; index++) store.save(() => (taken++, { ...EMPTY_STATE, nextGenerationId: index, generations }));
    store.settled();
    expect(writes).toBe(1);
    // The state is taken when it is written, not at every save.
    expect(taken).toBe(1);
    expect((await loadState(file)).nextGenerationId).toBe(50);
  });

  it('writes a burst once, 50 ms after its last save, and lags at most a second behind a change that never quiets', () => {
    onFakeTimers(() => {
      const { save, writes, written } = countingStore();
      // A reload: changes at its spawn, when it serves 45 ms later, and at the old generation's exit 5 ms after that.
      save(1);
      vi.advanceTimersByTime(45);
      save(2);
      vi.advanceTimersByTime(5);
      save(3);
      vi.advanceTimersByTime(49);
      expect(writes()).toBe(0);
      vi.advanceTimersByTime(1);
      expect(writes()).toBe(1);
      expect(written()).toBe(3);
      // A save every 30 ms for 2.5 s: written at 1 s and 2 s, then 50 ms after the last.
      for (let index = 0; index < 84; index++) {
        save(100 + index);
        vi.advanceTimersByTime(30);
      }
      expect(writes()).toBe(3);
      vi.advanceTimersByTime(20);
      expect(writes()).toBe(4);
      expect(written()).toBe(183);
    });
  });

  it('writes what a reload saves once it ended, however long its start, and never more than a second late', () => {
    onFakeTimers(() => {
      const { store, save, writes, written } = countingStore();
      // A reload whose generation takes 300 ms to start: the checkpoint, then its spawn's change.
      store.hold();
      save(1);
      store.settled();
      expect(writes()).toBe(1);
      save(2);
      vi.advanceTimersByTime(300);
      expect(writes()).toBe(1);
      // It serves, the old generation is signalled: the reload ends, and the old one exits 5 ms later.
      save(3);
      store.release();
      vi.advanceTimersByTime(5);
      save(4);
      vi.advanceTimersByTime(49);
      expect(writes()).toBe(1);
      vi.advanceTimersByTime(1);
      expect(writes()).toBe(2);
      expect(written()).toBe(4);
      // A start of several seconds: written a second after the first change it held, then once the reload ended.
      store.hold();
      save(5);
      vi.advanceTimersByTime(999);
      expect(writes()).toBe(2);
      vi.advanceTimersByTime(1);
      expect(writes()).toBe(3);
      save(6);
      vi.advanceTimersByTime(2000);
      expect(writes()).toBe(4);
      store.release();
      vi.advanceTimersByTime(1000);
      expect(writes()).toBe(4);
      expect(written()).toBe(6);
    });
  });

  it('reserves ids a checkpoint at a time: a spawn writes state.json only when its ids are not reserved on disk yet', () => {
    const reservation = new IdReservation();
    // The first spawn (generation 1 of reload 1: counters 2 and 2 once taken) always writes.
    expect(reservation.needsCheckpoint({ generation: 2, reload: 2 })).toBe(true);
    reservation.reserve({ generation: 2, reload: 2 });
    expect(reservation.counters({ generation: 2, reload: 2 })).toEqual({ generation: 2 + RESERVED_IDS, reload: 2 + RESERVED_IDS });
    // The next spawns up to the reserved ids write nothing of their own; every write keeps the counters ahead.
    expect(reservation.needsCheckpoint({ generation: 2 + RESERVED_IDS, reload: 2 + RESERVED_IDS })).toBe(false);
    expect(reservation.counters({ generation: 9, reload: 7 })).toEqual({ generation: 2 + RESERVED_IDS, reload: 2 + RESERVED_IDS });
    // Past either counter (a reload that tried several generations uses more generation ids than reload ids): a write.
    expect(reservation.needsCheckpoint({ generation: 3 + RESERVED_IDS, reload: 10 })).toBe(true);
    expect(reservation.needsCheckpoint({ generation: 10, reload: 3 + RESERVED_IDS })).toBe(true);
    // A failed checkpoint or a stop: nothing reserved, the counters are written exact, the next spawn writes again.
    reservation.drop();
    expect(reservation.counters({ generation: 9, reload: 7 })).toEqual({ generation: 9, reload: 7 });
    expect(reservation.needsCheckpoint({ generation: 9, reload: 7 })).toBe(true);
  });

  it('keeps the generation about to start (pending): its id is never given out again, even when the counter was not yet written', () => {
    const state = parseState(JSON.stringify({ nextGenerationId: 4, nextReloadId: 2, generations: [], pending: { id: 7, socket: '/run/hs/gen/7.sock', since: '2026-12-01T00:00:00.000Z' } }));
    expect(state.pending).toEqual({ id: 7, socket: '/run/hs/gen/7.sock', since: '2026-12-01T00:00:00.000Z' });
    expect(state.nextGenerationId).toBe(8);
    expect(parseState(JSON.stringify({ nextGenerationId: 4, pending: { id: 'x' } }))).toMatchObject({ nextGenerationId: 4 });
    expect(parseState(JSON.stringify({ nextGenerationId: 4, pending: { id: 'x' } })).pending).toBeUndefined();
  });

  it('starts fresh from a missing or corrupt state.json', async () => {
    const file = path.join(tempDir(), 'state.json');
    expect(await loadState(file)).toEqual(EMPTY_STATE);
    writeFileSync(file, '{"nextGenerationId": 7, "nextReloadId": "x"');
    expect(await loadState(file)).toEqual(EMPTY_STATE);
    writeFileSync(file, '{"nextGenerationId": 7, "nextReloadId": -2}');
    expect(await loadState(file)).toMatchObject({ nextGenerationId: 7, nextReloadId: 1, generations: [] });
  });

  it('round-trips what the supervisor writes', () => {
    const state = { ...EMPTY_STATE, nextGenerationId: 4, nextReloadId: 9, generations: [record({ exit: { code: 0, signal: null, reason: 'drained' as const, at: '2026-11-23T00:00:00.000Z' }, state: 'exited' as const }), record({ id: 3, escalation: 'term' as const, state: 'draining' as const, deadline: '2026-11-23T00:30:00.000Z' })] };
    expect(parseState(JSON.stringify(state))).toEqual(state);
  });

  it('drops generation records that could make it signal the wrong process, keeping the valid ones', () => {
    const bad = [
      record({ pid: 0 }),
      { ...record({}), pid: '123' },
      record({ startTime: undefined }),
      { ...record({}), state: 'zombie' },
      record({ deadline: 'tomorrow' }),
      { ...record({}), escalation: 'nuke' },
      'not an object',
      null,
    ];
    const parsed = parseState(JSON.stringify({ nextGenerationId: 5, generations: [...bad, record({ id: 4 })] }));
    expect(parsed.generations.map((generation) => generation.id)).toEqual([4]);
    expect(parseState(JSON.stringify({ generations: 'nope' })).generations).toEqual([]);
  });
});

function record(fields: Partial<GenerationRecord>): GenerationRecord {
  return { id: 2, pid: 4242, startTime: 123456, startedAt: '2026-11-23T00:00:00.000Z', socket: '/run/x/gen/2.sock', state: 'active', ...fields };
}
