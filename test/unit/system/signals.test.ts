import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { identify, isSameProcess } from '../../../src/system/proc.js';
import { signalIdentity } from '../../../src/system/signals.js';

describe('process identity', () => {
  it('knows a live process by pid and start time, and refuses to signal a recorded identity that no longer matches', async () => {
    const child = spawn('sleep', ['30']);
    const identity = identify(child.pid ?? -1);
    expect(identity).toBeDefined();
    expect(isSameProcess(identity!)).toBe(true);
    // Same pid, other start time: what a recycled pid looks like.
    expect(signalIdentity({ pid: identity!.pid, startTime: identity!.startTime + 1 }, 'SIGTERM')).toBe('recycled');
    expect(child.exitCode).toBeNull();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    expect(signalIdentity(identity!, 'SIGTERM')).toBe('sent');
    await exited;
    expect(signalIdentity(identity!, 'SIGTERM')).toBe('gone');
  });
});
