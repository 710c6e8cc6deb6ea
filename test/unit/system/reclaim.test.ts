import { describe, expect, it, vi } from 'vitest';
import { RECLAIM_AFTER_BYTES, refusedRead } from '../../../src/system/reclaim.js';

describe('reclaiming what refused requests read', () => {
  it('collects once per RECLAIM_AFTER_BYTES refused, however they are split, and starts counting again', () => {
    const gc = vi.fn();
    const read = 64 * 1024;
    const perCollection = RECLAIM_AFTER_BYTES / read;
    for (let index = 1; index < perCollection; index++) refusedRead(read, gc);
    expect(gc).not.toHaveBeenCalled();
    refusedRead(read, gc);
    expect(gc).toHaveBeenCalledTimes(1);
    for (let index = 1; index < perCollection; index++) refusedRead(read, gc);
    expect(gc).toHaveBeenCalledTimes(1);
    refusedRead(read, gc);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it('does nothing without --expose-gc, and the daemon is given it', async () => {
    expect(() => refusedRead(RECLAIM_AFTER_BYTES, undefined)).not.toThrow();
    const { DAEMON_NODE_FLAGS } = await import('../../../src/cli/commands/start.js');
    expect(DAEMON_NODE_FLAGS).toContain('--expose-gc');
  });
});
