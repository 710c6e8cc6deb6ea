import { execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExitReason } from '../../../src/control/types.js';
import { Fleet, type FleetOptions } from '../../../src/supervisor/fleet.js';
import type { Generation, GenerationRecord } from '../../../src/supervisor/generation.js';
import { identify, readComm } from '../../../src/system/proc.js';
import { haproxyPids, killAll } from '../../helpers/haproxy-processes.js';
import { isAlive } from '../../helpers/os-probes.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

/** A process whose comm is "haproxy" and that exits 0 on SIGUSR1 (test/fixtures/fake-haproxy/haproxy). */
const FAKE_HAPROXY = path.resolve(import.meta.dirname, '../../fixtures/fake-haproxy/haproxy');

const tempDir = useTempDirs();
const fleets: Fleet[] = [];
const strays: number[] = [];
const servers: Server[] = [];
const runDirs: string[] = [];

function fleet(options: Partial<FleetOptions> = {}): Fleet & { exits: Array<[number, ExitReason]> } {
  const runDir = options.runDir ?? tempDir();
  runDirs.push(runDir);
  const created = new Fleet({
    haproxy: FAKE_HAPROXY,
    config: [path.join(runDir, 'haproxy.cfg')],
    runDir,
    drainTimeoutMs: 60_000,
    killGraceMs: 10_000,
    maxDraining: 20,
    historySize: 20,
    variables: { values: () => ({}) },
    startNice: 0,
    log: pino({ level: 'silent' }),
    ...options,
  });
  const exits: Array<[number, ExitReason]> = [];
  created.on('exited', (generation, reason) => exits.push([generation.id, reason]));
  fleets.push(created);
  return Object.assign(created, { exits });
}

beforeEach(() => {
  delete process.env['FAKE_HAPROXY_IGNORE'];
});

afterEach(async () => {
  delete process.env['FAKE_HAPROXY_IGNORE'];
  for (const created of fleets.splice(0)) {
    created.close();
    for (const generation of created.live()) generation.signal('SIGKILL');
    await Promise.all(created.live().map((generation) => generation.exited));
  }
  for (const pid of strays.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  // Whatever a failed test left running from its run dirs (adopted, or spawned by a fleet it replaced).
  for (const runDir of runDirs.splice(0)) killAll(haproxyPids(runDir));
  for (const server of servers.splice(0)) server.close();
});

const exitOf = (target: Fleet, generation: Generation) => target.records().find((record) => record.id === generation.id)?.exit;

describe('Fleet', () => {
  it('launches a generation as its child with the supervisor’s argv, keeps its output, and records a drained exit', async () => {
    const target = fleet();
    const generation = await target.launch(undefined);
    expect(generation.state).toBe('starting');
    await expect.poll(() => generation.tail()).toEqual([expect.stringContaining('fake haproxy -db -f')]);
    expect(generation.tail()[0]).toContain(`-f ${target.records()[0]?.socket.replace(/gen\/1\.sock$/, 'supervisor.cfg')}`);
    target.activate(generation);
    const next = await target.launch(generation.record.socket);
    expect(next.id).toBe(2);
    await expect.poll(() => next.tail()[0]).toContain(`-x ${generation.record.socket}`);
    target.activate(next);
    expect(target.retireOlderThan(next)).toEqual([{ id: 1, pid: generation.pid }]);
    expect(generation.state).toBe('draining');
    await generation.exited;
    await expect.poll(() => target.exits).toEqual([[1, 'drained']]);
    expect(exitOf(target, generation)).toMatchObject({ code: 0, signal: null, reason: 'drained' });
    expect(target.live()).toEqual([next]);
    expect(target.active()).toBe(next);
  });

  it('takes a draining generation that ignores SIGUSR1 and SIGTERM down the whole ladder to SIGKILL', async () => {
    process.env['FAKE_HAPROXY_IGNORE'] = 'USR1 TERM';
    const target = fleet({ drainTimeoutMs: 200, killGraceMs: 200 });
    const old = await target.launch(undefined);
    target.activate(old);
    const current = await target.launch(undefined);
    target.activate(current);
    await expect.poll(() => old.tail().length).toBeGreaterThan(0); // its traps are set
    target.retireOlderThan(current);
    await old.exited;
    await expect.poll(() => exitOf(target, old)).toMatchObject({ signal: 'SIGKILL', reason: 'deadline-kill' });
    expect(current.isLive()).toBe(true);
  });

  it('terminates every live generation with SIGTERM and records them as terminated', async () => {
    const target = fleet();
    const first = await target.launch(undefined);
    target.activate(first);
    const retired = await target.terminateAll();
    expect(retired).toEqual([{ id: 1, pid: first.pid }]);
    await expect.poll(() => exitOf(target, first)).toMatchObject({ signal: 'SIGTERM', reason: 'terminated' });
  });

  it('abandons a generation that never served: SIGUSR1, recorded as a failed start', async () => {
    const target = fleet();
    const generation = await target.launch(undefined);
    target.abandon(generation);
    await generation.exited;
    await expect.poll(() => target.exits).toEqual([[1, 'failed-start']]);
  });

  it('adopts a live haproxy a previous supervisor recorded, continues its ids, and tracks its exit the same way', async () => {
    const target = fleet();
    const orphan = spawn(FAKE_HAPROXY, [], { detached: true, stdio: 'ignore' });
    strays.push(orphan.pid ?? -1);
    // Until exec, the child is still a copy of node (the fixture's #!/bin/bash keeps the comm "haproxy" after it).
    await expect.poll(() => readComm(orphan.pid ?? -1)).toBe('haproxy');
    const identity = identify(orphan.pid ?? -1)!;
    const socket = await adminSocket(path.join(tempDir(), '7.sock'), identity.pid);
    const records: GenerationRecord[] = [
      { id: 7, pid: identity.pid, startTime: identity.startTime, startedAt: new Date().toISOString(), socket, state: 'active', readyAt: new Date().toISOString() },
      // Same pid, other start time: a recycled pid is never adopted.
      { id: 6, pid: identity.pid, startTime: identity.startTime + 1, startedAt: '', socket, state: 'draining' },
      // A live process that is not haproxy (this test runner).
      { id: 5, pid: process.pid, startTime: identify(process.pid)!.startTime, startedAt: '', socket, state: 'draining' },
    ];
    const adopted = await target.restore(records, 8);
    expect(adopted.map((generation) => [generation.id, generation.record.adopted])).toEqual([[7, true]]);
    expect(target.active()?.pid).toBe(orphan.pid);
    expect(target.nextId).toBe(8);
    orphan.kill('SIGKILL');
    await expect.poll(() => target.exits, { timeout: 5000 }).toEqual([[7, 'crashed']]);
    expect(target.live()).toEqual([]);
    expect(existsSync(socket)).toBe(false);
    const next = await target.launch(undefined);
    expect(next.id).toBe(8);
  });

  it('adopts a generation of its run dir that state.json never named (the supervisor died right after the spawn): its id from its socket, drained behind the recorded active one', async () => {
    const runDir = tempDir();
    const first = fleet({ runDir });
    const recorded = await first.launch(undefined);
    first.activate(recorded);
    const unrecorded = await first.launch(recorded.record.socket);
    // The "previous supervisor" dies: its state.json names generation 1 only, with nextGenerationId 2.
    first.close();
    const records = first.records().filter((record) => record.id === 1);
    strays.push(recorded.pid, unrecorded.pid);
    await adminSocket(recorded.record.socket, recorded.pid);
    await adminSocket(unrecorded.record.socket, unrecorded.pid);
    const successor = fleet({ runDir });
    const adopted = await successor.restore(records, 2);
    expect(adopted.map((generation) => [generation.id, generation.pid])).toEqual([
      [1, recorded.pid],
      [2, unrecorded.pid],
    ]);
    expect(successor.nextId).toBe(3);
    // The recorded active one still serves: the reload that never accepted generation 2 is rolled back.
    expect(successor.active()?.id).toBe(1);
    await expect.poll(() => successor.exits, { timeout: 5000 }).toEqual([[2, 'drained']]);
    expect(successor.live().map((generation) => generation.id)).toEqual([1]);
  });

  it('makes the newest serving generation active when the recorded active one already stopped listening (the old supervisor died after SIGUSR1)', async () => {
    const runDir = tempDir();
    process.env['FAKE_HAPROXY_IGNORE'] = 'USR1';
    const first = fleet({ runDir });
    const old = await first.launch(undefined);
    first.activate(old);
    const current = await first.launch(old.record.socket);
    first.close();
    strays.push(old.pid, current.pid);
    // The old one was told to finish: its admin socket file is there, nobody accepts on it.
    deadSocket(old.record.socket);
    await adminSocket(current.record.socket, current.pid);
    const records = first.records().filter((record) => record.id === 1);
    const successor = fleet({ runDir });
    await successor.restore(records, 2);
    expect(successor.active()?.id).toBe(2);
    expect(successor.live().find((generation) => generation.id === 1)?.state).toBe('draining');
  });

  it('after a failed hand-over, adopts the generation a dead successor spawned in its run dir and drains it behind its own active one', async () => {
    const runDir = tempDir();
    const own = fleet({ runDir });
    const active = await own.launch(undefined);
    own.activate(active);
    await adminSocket(active.record.socket, active.pid);
    // The successor's fleet, from the same state (ids continue), spawns generation 2 and dies.
    const successor = fleet({ runDir });
    await successor.restore(own.records(), own.nextId);
    const spawnedBySuccessor = await successor.launch(undefined);
    successor.close();
    strays.push(spawnedBySuccessor.pid);
    await adminSocket(spawnedBySuccessor.record.socket, spawnedBySuccessor.pid);
    const adopted = await own.adoptStrangers();
    expect(adopted.map((generation) => generation.pid)).toEqual([spawnedBySuccessor.pid]);
    expect(own.active()).toBe(active);
    await expect.poll(() => own.exits, { timeout: 5000 }).toEqual([[adopted[0]?.id, 'drained']]);
    expect(await own.adoptStrangers()).toEqual([]);
  });

  it('abandons a generation that never answered when nothing serves, and names the generation about to start in state.json before spawning it', async () => {
    const runDir = tempDir();
    const first = fleet({ runDir });
    const seen: Array<{ pending: unknown; live: number }> = [];
    first.useCheckpoint({ checkpoint: () => void seen.push({ pending: first.pending(), live: first.live().length }) });
    const starting = await first.launch(undefined);
    expect(seen).toMatchObject([{ pending: { id: 1, socket: starting.record.socket }, live: 0 }]);
    expect(first.pending()).toBeUndefined();
    first.close();
    strays.push(starting.pid);
    const successor = fleet({ runDir });
    await successor.restore([], 2);
    expect(successor.active()).toBeUndefined();
    await expect.poll(() => successor.exits, { timeout: 5000 }).toEqual([[1, 'failed-start']]);
  });
});

/** A stand-in admin socket at `socket` that answers `show info` for `pid` as haproxy does. */
async function adminSocket(socket: string, pid: number): Promise<string> {
  rmSync(socket, { force: true });
  const server = createServer((connection) => connection.end(`Name: HAProxy\nPid: ${pid}\nStopping: 0\n\n`));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return socket;
}

/** A socket file nobody accepts on, as a soft-stopped haproxy leaves its admin socket (bound, then closed without unlink). */
function deadSocket(socket: string): void {
  rmSync(socket, { force: true });
  execFileSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', socket]);
  expect(existsSync(socket)).toBe(true);
}
