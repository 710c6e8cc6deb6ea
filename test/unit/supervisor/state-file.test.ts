import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
