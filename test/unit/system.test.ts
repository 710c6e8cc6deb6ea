import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { HaproxyCheckError, NotRunningError, OptionError, ReloadError, RemoteError, RunDirOwnedError } from '../../src/errors.js';
import { installSignalPolicy } from '../../src/supervisor/signal-policy.js';
import { loadState, StateStore } from '../../src/supervisor/state-store.js';
import { writeFileAtomic } from '../../src/system/atomic-write.js';
import { acquirePidfile, releasePidfile } from '../../src/system/pidfile.js';
import { identify, isSameProcess } from '../../src/system/proc.js';
import { signalIdentity } from '../../src/system/signals.js';

const tempDir = useTempDirs();

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

describe('pidfile', () => {
  it('is created exclusively, replaces a stale file and refuses a live supervisor', () => {
    const file = path.join(tempDir(), 'supervisor.pid');
    writeFileSync(file, '999999999\n'); // stale: no such process
    acquirePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    releasePidfile(file);
    writeFileSync(file, `${process.ppid}\n`); // alive, but not a supervisor: stale too
    acquirePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    releasePidfile(file);
    expect(() => readFileSync(file)).toThrow();
  });

  it('leaves another process’s pidfile alone on release', () => {
    const file = path.join(tempDir(), 'supervisor.pid');
    writeFileSync(file, '12345\n');
    releasePidfile(file);
    expect(readFileSync(file, 'utf8')).toBe('12345\n');
  });
});

describe('state', () => {
  it('writes atomically, leaving no temp files', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'state.json');
    await Promise.all(Array.from({ length: 20 }, (_, index) => writeFileAtomic(file, JSON.stringify({ index }))));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('index');
    expect(readdirSync(dir)).toEqual(['state.json']);
  });

  it('collapses bursts of changes into few writes that end with the newest state', async () => {
    const file = path.join(tempDir(), 'state.json');
    let counter = 0;
    const store = new StateStore(file, () => ({ version: 1, nextGenerationId: ++counter, nextReloadId: 1 }), (error) => {
      throw error;
    });
    for (let index = 0; index < 50; index++) store.changed();
    await store.settled();
    expect(counter).toBeLessThan(5);
    expect((await loadState(file)).nextGenerationId).toBe(counter);
  });

  it('starts fresh from a missing or corrupt state.json', async () => {
    const file = path.join(tempDir(), 'state.json');
    expect(await loadState(file)).toEqual({ version: 1, nextGenerationId: 1, nextReloadId: 1 });
    writeFileSync(file, '{"nextGenerationId": 7, "nextReloadId": "x"');
    expect(await loadState(file)).toEqual({ version: 1, nextGenerationId: 1, nextReloadId: 1 });
    writeFileSync(file, '{"nextGenerationId": 7, "nextReloadId": -2}');
    expect(await loadState(file)).toMatchObject({ nextGenerationId: 7, nextReloadId: 1 });
  });
});

describe('exit codes', () => {
  it('maps each error to its documented code', () => {
    expect(exitCodeFor(new OptionError('x'))).toBe(2);
    expect(exitCodeFor(new NotRunningError('/r'))).toBe(3);
    expect(exitCodeFor(new HaproxyCheckError('haproxy -c', 1, []))).toBe(10);
    expect(exitCodeFor(new ReloadError('x', 'check'))).toBe(10);
    expect(exitCodeFor(new ReloadError('x', 'spawn'))).toBe(11);
    expect(exitCodeFor(new ReloadError('x', 'ready'))).toBe(11);
    expect(exitCodeFor(new RunDirOwnedError('/r/supervisor.pid', 1))).toBe(12);
    expect(exitCodeFor(new ReloadError('x', 'transfer'))).toBe(13);
    expect(exitCodeFor(new RemoteError('x', 'config-invalid'))).toBe(10);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
});

describe('signal policy', () => {
  it('maps HUP/USR2 to reloads, TERM/INT to a graceful stop and QUIT to a hard stop', async () => {
    const source = new EventEmitter();
    const supervisor = {
      reload: vi.fn(() => Promise.resolve({ id: 1, ok: true } as never)),
      stop: vi.fn(() => Promise.resolve()),
    };
    installSignalPolicy(supervisor, pino({ level: 'silent' }), source);
    for (const signal of ['SIGHUP', 'SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGQUIT']) source.emit(signal);
    await Promise.resolve();
    expect(supervisor.reload.mock.calls).toEqual([
      ['reload', 'signal'],
      ['reload', 'signal'],
    ]);
    expect(supervisor.stop.mock.calls).toEqual([[{ hard: false }], [{ hard: false }], [{ hard: true }]]);
  });
});
