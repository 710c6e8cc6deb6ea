import { describe, expect, it } from 'vitest';
import { ReloadQueue, type Batch } from '../../../src/supervisor/reload-queue.js';

type Mode = 'reload' | 'restart';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ReloadQueue', () => {
  it('runs one reload at a time and coalesces every request made during it into one follow-up', async () => {
    const gates: Array<ReturnType<typeof deferred>> = [];
    const runs: Array<Batch<Mode, string>> = [];
    let running = 0;
    let maxRunning = 0;
    const queue = new ReloadQueue<Mode, string, number>(async (batch) => {
      runs.push({ mode: batch.mode, triggers: [...batch.triggers] });
      running++;
      maxRunning = Math.max(maxRunning, running);
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      running--;
      return runs.length;
    });
    const first = queue.request('reload', 'a');
    const during = ['b', 'c', 'd', 'e'].map((trigger) => queue.request('reload', trigger));
    expect(runs).toHaveLength(1);
    gates[0]?.resolve();
    expect(await first).toBe(1);
    await expect.poll(() => gates.length).toBe(2);
    gates[1]?.resolve();
    expect(await Promise.all(during)).toEqual([2, 2, 2, 2]);
    expect(runs.map((run) => run.triggers)).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    expect(maxRunning).toBe(1);
  });

  it('keeps `reload --no-verify` requests in a batch of their own, so no one else’s reload loses its verify window', async () => {
    const gate = deferred();
    const runs: Array<{ triggers: string[]; skipVerify: boolean }> = [];
    const queue = new ReloadQueue<Mode, string, number>(async (batch) => {
      runs.push({ triggers: [...batch.triggers], skipVerify: batch.skipVerify === true });
      if (runs.length === 1) await gate.promise;
      return runs.length;
    });
    const first = queue.request('reload', 'a');
    const verified = [queue.request('reload', 'b'), queue.request('reload', 'c')];
    const unverified = [queue.request('reload', 'd', true), queue.request('reload', 'e', true)];
    gate.resolve();
    expect(await first).toBe(1);
    expect(await Promise.all(verified)).toEqual([2, 2]);
    expect(await Promise.all(unverified)).toEqual([3, 3]);
    expect(runs).toEqual([
      { triggers: ['a'], skipVerify: false },
      { triggers: ['b', 'c'], skipVerify: false },
      { triggers: ['d', 'e'], skipVerify: true },
    ]);
  });

  it('gives each caller the result of a reload that started after its request, never an earlier one', async () => {
    const gates: Array<ReturnType<typeof deferred>> = [];
    let started = 0;
    const queue = new ReloadQueue<Mode, string, number>(async () => {
      const id = ++started;
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      return id;
    });
    const a = queue.request('reload', 'a');
    const b = queue.request('reload', 'b'); // during reload 1 → reload 2
    gates[0]?.resolve();
    await a;
    await expect.poll(() => gates.length).toBe(2);
    const c = queue.request('reload', 'c'); // during reload 2 → reload 3
    gates[1]?.resolve();
    expect(await b).toBe(2);
    await expect.poll(() => gates.length).toBe(3);
    gates[2]?.resolve();
    expect(await c).toBe(3);
  });

  it('keeps different modes apart, in order, and fails waiting requests on close', async () => {
    const gate = deferred();
    const modes: Mode[] = [];
    const queue = new ReloadQueue<Mode, string, Mode>(async (batch) => {
      modes.push(batch.mode);
      await gate.promise;
      return batch.mode;
    });
    const first = queue.request('reload', 'a');
    const restart = queue.request('restart', 'b');
    const reload = queue.request('reload', 'c');
    const closing = queue.close(new Error('stopping'));
    await expect(restart).rejects.toThrow('stopping');
    await expect(reload).rejects.toThrow('stopping');
    await expect(queue.request('reload', 'd')).rejects.toThrow('stopping');
    gate.resolve();
    expect(await first).toBe('reload');
    await closing;
    expect(modes).toEqual(['reload']);
  });

  it('turns a thrown run into a rejection for its callers and keeps serving later requests', async () => {
    let calls = 0;
    const queue = new ReloadQueue<Mode, string, number>(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(calls);
    });
    await expect(queue.request('reload', 'a')).rejects.toThrow('boom');
    expect(await queue.request('reload', 'b')).toBe(2);
  });
});
