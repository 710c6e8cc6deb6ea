import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../../helpers/temp-dirs.js';
import pino from 'pino';
import type { GenerationRecord } from '../../../src/supervisor/generation.js';
import { EMPTY_STATE, loadState, parseState, StateStore } from '../../../src/supervisor/state-file.js';

const tempDir = useTempDirs();

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
    vi.useFakeTimers();
    try {
      const file = path.join(tempDir(), 'state.json');
      let writes = 0;
      const generations = Object.assign([], { toJSON: () => (writes++, []) });
      const store = new StateStore(file, pino({ level: 'silent' }));
      const save = (index: number): void => store.save(() => ({ ...EMPTY_STATE, nextGenerationId: index, generations }));
      // A reload: changes at its spawn, when it serves 45 ms later, and at the old generation's exit 5 ms after that.
      save(1);
      vi.advanceTimersByTime(45);
      save(2);
      vi.advanceTimersByTime(5);
      save(3);
      vi.advanceTimersByTime(49);
      expect(writes).toBe(0);
      vi.advanceTimersByTime(1);
      expect(writes).toBe(1);
      expect(parseState(readFileSync(file, 'utf8')).nextGenerationId).toBe(3);
      // A save every 30 ms for 2.5 s: written at 1 s and 2 s, then 50 ms after the last.
      for (let index = 0; index < 84; index++) {
        save(100 + index);
        vi.advanceTimersByTime(30);
      }
      expect(writes).toBe(3);
      vi.advanceTimersByTime(20);
      expect(writes).toBe(4);
      expect(parseState(readFileSync(file, 'utf8')).nextGenerationId).toBe(183);
    } finally {
      vi.useRealTimers();
    }
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
