import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReloadMode } from '../../../src/control/types.js';
import { HaproxyCheckError } from '../../../src/errors.js';
import type { CheckResult, Checker } from '../../../src/haproxy/check.js';
import type { GenerationRef } from '../../../src/supervisor/fleet.js';
import type { Generation } from '../../../src/supervisor/generation.js';
import { ReloadHistory } from '../../../src/supervisor/reload-history.js';
import { ReloadTransaction, type ConfigBaseline, type ReloadFleet } from '../../../src/supervisor/reload.js';
import type { NotServing } from '../../../src/supervisor/wait-serving.js';
import type { Snapshot } from '../../../src/watch/content-hash.js';
import { FakeGeneration } from '../../helpers/fake-generation.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

/** How the next launched generation behaves. */
type Script = { serves: true; lines?: string[] } | { serves: false; reason: 'exited' | 'timeout'; lines?: string[] };

const TRANSFER_LINE = '[ALERT]    (1) : Failed to get the sockets from the old process!';

/** A fleet of FakeGenerations: launches follow a script, and everything done to generations is recorded. */
class FakeFleet implements ReloadFleet {
  readonly generations: FakeGeneration[] = [];
  readonly launches: Array<string | undefined> = [];
  readonly abandoned: number[] = [];
  readonly terminated: number[] = [];
  readonly scripts: Script[] = [];
  /** What `probe` answers for a generation (undefined: it serves). */
  silent: string | undefined;
  #nextId = 1;

  /** Starts with one active generation, as after a successful start. */
  withActive(): FakeGeneration {
    const generation = new FakeGeneration(this.#nextId++, { state: 'active' });
    this.generations.push(generation);
    return generation;
  }

  active(): Generation | undefined {
    return this.generations.find((generation) => generation.state === 'active' && generation.isLive());
  }

  launch(transferFrom: string | undefined): Promise<Generation> {
    this.launches.push(transferFrom);
    const generation = new FakeGeneration(this.#nextId++);
    this.generations.push(generation);
    return Promise.resolve(generation);
  }

  waitServing(generation: Generation): Promise<NotServing | undefined> {
    const script = this.scripts.shift() ?? { serves: true };
    for (const line of script.lines ?? []) generation.remember(line);
    if (script.serves) return Promise.resolve(undefined);
    if (script.reason === 'exited') (generation as FakeGeneration).exit({ code: 1, signal: null });
    return Promise.resolve({ reason: script.reason, detail: script.reason === 'timeout' ? 'no ready answer within 60000ms' : 'haproxy exited before it served' });
  }

  activate(generation: Generation): void {
    generation.markActive();
  }

  retireOlderThan(current: Generation): GenerationRef[] {
    const older = this.generations.filter((generation) => generation.id < current.id && generation.isLive() && generation.state === 'active');
    for (const generation of older) generation.markDraining(new Date(Date.now() + 60_000));
    return older.map(({ id, pid }) => ({ id, pid }));
  }

  abandon(generation: Generation): void {
    this.abandoned.push(generation.id);
    (generation as FakeGeneration).exit({ code: null, signal: 'SIGKILL' });
  }

  probe(): Promise<string | undefined> {
    return Promise.resolve(this.silent);
  }

  markHung(generation: Generation, reason: string): void {
    generation.record.hung = { at: new Date().toISOString(), reason };
  }

  terminateAll(): Promise<GenerationRef[]> {
    const live = this.generations.filter((generation) => generation.isLive());
    for (const generation of live) {
      this.terminated.push(generation.id);
      generation.exit({ code: null, signal: 'SIGTERM' });
    }
    return Promise.resolve(live.map(({ id, pid }) => ({ id, pid })));
  }
}

/** `haproxy -c` (restart only) that passes, or fails with haproxy's lines, when the test says so. */
class FakeChecker implements Checker {
  calls = 0;
  failure: string[] | undefined;

  version(): Promise<string | undefined> {
    return Promise.resolve('2.6.12-test');
  }

  async check(): Promise<CheckResult> {
    this.calls++;
    await Promise.resolve();
    if (this.failure !== undefined) throw new HaproxyCheckError({ command: 'haproxy -c', exitCode: 1, lines: this.failure });
    return { warnings: ['[WARNING]  (1) : a warning'], durationMs: 3 };
  }
}

/** Records what the watcher would learn. */
class FakeBaseline implements ConfigBaseline {
  readonly events: string[] = [];
  capture(): Promise<Snapshot> {
    return Promise.resolve({ digests: new Map([['/etc/haproxy/haproxy.cfg', 'abc']]), missing: [] });
  }
  changes(): string[] {
    return ['/etc/haproxy/hosts.map'];
  }
  loaded(): void {
    this.events.push('loaded');
  }
  failed(_captured: Snapshot, message: string): void {
    this.events.push(`failed: ${message.split('\n')[0]}`);
  }
}

const tempDir = useTempDirs();
let fleet: FakeFleet;
let checker: FakeChecker;
let baseline: FakeBaseline;
let config: string;

let history: ReloadHistory;

function transaction(): ReloadTransaction {
  return new ReloadTransaction({
    fleet,
    checker,
    records: history,
    baseline,
    settings: { config: [config], readyTimeoutMs: 60_000, drainTimeoutMs: 1_800_000, verifyWindowMs: 0, verifyObserveMs: 0 },
    log: pino({ level: 'silent' }),
  });
}

const run = (mode: ReloadMode) => transaction().run({ mode, triggers: ['cli', 'signal'] });

beforeEach(() => {
  history = new ReloadHistory(40, 20);
  fleet = new FakeFleet();
  checker = new FakeChecker();
  baseline = new FakeBaseline();
  config = path.join(tempDir(), 'haproxy.cfg');
  writeFileSync(config, 'global\n    hard-stop-after 5m\ndefaults\n    mode http\n');
});

describe('ReloadTransaction', () => {
  it('takes the sockets over from the active generation, then retires it, and returns a finished result with the warnings the new generation printed', async () => {
    const old = fleet.withActive();
    fleet.scripts.push({ serves: true, lines: ['[NOTICE]   (7) : haproxy version is 2.6.12', '[WARNING]  (7) : a warning'] });
    const result = await run('reload');
    expect(result).toMatchObject({ id: 40, ok: true, mode: 'reload', triggers: ['cli', 'signal'], hitless: true, generation: { id: 2 }, retired: [{ id: old.id, pid: old.pid }] });
    expect(result.warnings).toEqual(['[WARNING]  (7) : a warning']);
    expect(fleet.launches).toEqual([old.record.socket]);
    expect(old.state).toBe('draining');
    expect(fleet.active()?.id).toBe(2);
    expect(result.timings.prepareMs).toBeGreaterThanOrEqual(0);
    expect(result.timings.checkMs).toBeUndefined();
    expect(result.durationMs).toBeGreaterThanOrEqual((result.timings.prepareMs ?? 0) + Math.max(result.timings.readyMs ?? 0, 0));
    expect(baseline.events).toEqual(['loaded']);
  });

  it('fails in the check phase with haproxy’s ALERT lines when the new generation rejects the configuration, runs no haproxy -c, and leaves the old one serving', async () => {
    const old = fleet.withActive();
    const alerts = ["[ALERT]    (8) : config : parsing [haproxy.cfg:9] : unknown keyword 'this-is-not' in 'frontend' section", '[ALERT]    (8) : config : Fatal errors found in configuration.'];
    fleet.scripts.push({ serves: false, reason: 'exited', lines: ['[NOTICE]   (8) : haproxy version is 2.6.12', ...alerts] });
    const result = await run('reload');
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ code: 'config-invalid', phase: 'check', lines: alerts });
    expect(result.error?.message).toBe(`haproxy rejected the configuration:\n${alerts.join('\n')}`);
    expect(checker.calls).toBe(0);
    expect(fleet.launches).toEqual([old.record.socket]);
    expect(fleet.abandoned).toEqual([2]);
    expect(old.state).toBe('active');
    expect(old.signals).toEqual([]);
    expect(result.retired).toEqual([]);
    expect(baseline.events).toEqual([expect.stringMatching(/^failed: haproxy rejected the configuration/)]);
  });

  it('fails with haproxy’s own lines when the new generation exits before it serves; the old one keeps serving', async () => {
    const old = fleet.withActive();
    fleet.scripts.push({ serves: false, reason: 'exited', lines: ['[ALERT]    (9) : Starting frontend fe: cannot bind socket'] });
    const result = await run('reload');
    expect(result.ok).toBe(false);
    expect(result.error).toMatchObject({ code: 'start-failed', phase: 'spawn', lines: ['[ALERT]    (9) : Starting frontend fe: cannot bind socket'] });
    expect(result.error?.message).toContain('haproxy exited (exit code 1) before it served');
    expect(fleet.abandoned).toEqual([2]);
    expect(old.state).toBe('active');
    expect(fleet.active()?.id).toBe(old.id);
  });

  it('reports a generation that never answered as failing in the ready phase', async () => {
    fleet.withActive();
    fleet.scripts.push({ serves: false, reason: 'timeout' });
    const result = await run('reload');
    expect(result.error).toMatchObject({ code: 'start-failed', phase: 'ready' });
    expect(fleet.abandoned).toEqual([2]);
  });

  it('falls back to a legacy start, honestly not hitless, when the socket transfer fails on reload', async () => {
    const old = fleet.withActive();
    fleet.scripts.push({ serves: false, reason: 'exited', lines: [TRANSFER_LINE] });
    const result = await run('reload');
    expect(result).toMatchObject({ ok: true, hitless: false, generation: { id: 3 }, retired: [{ id: old.id }] });
    expect(result.warnings.join('\n')).toMatch(/Socket transfer from generation 1 failed .*Failed to get the sockets/);
    expect(fleet.launches).toEqual([old.record.socket, undefined]);
    expect(fleet.abandoned).toEqual([2]);
  });

  it('marks the running generation hung when the transfer failed and it does not answer either', async () => {
    const old = fleet.withActive();
    fleet.scripts.push({ serves: false, reason: 'exited', lines: [TRANSFER_LINE] });
    fleet.silent = 'no answer to show info: timeout';
    const result = await run('reload');
    expect(result).toMatchObject({ ok: true, hitless: false });
    expect(old.record.hung?.reason).toBe('no answer to show info: timeout');
    expect(result.warnings.join('\n')).toContain('Generation 1 does not answer (no answer to show info: timeout): it is terminated once the new one serves.');
  });

  it('starts fresh beside a hung active generation, without trying a transfer from it', async () => {
    const old = fleet.withActive();
    old.record.hung = { at: '', reason: 'process stopped (state T: SIGSTOP or a debugger)' };
    const strict = await run('reload-socket');
    expect(strict.error).toMatchObject({ code: 'transfer-failed', phase: 'transfer' });
    expect(strict.error?.message).toContain('Generation 1 is hung (process stopped');
    expect(fleet.launches).toEqual([]);
    const result = await run('reload');
    expect(result).toMatchObject({ ok: true, hitless: false, generation: { id: 2 }, retired: [{ id: 1 }] });
    expect(fleet.launches).toEqual([undefined]);
    expect(result.warnings[0]).toContain('Generation 1 is hung (process stopped');
  });

  it('fails reload-socket with transfer-failed when the transfer fails, starting nothing else', async () => {
    const old = fleet.withActive();
    fleet.scripts.push({ serves: false, reason: 'exited', lines: [TRANSFER_LINE] });
    const result = await run('reload-socket');
    expect(result.error).toMatchObject({ code: 'transfer-failed', phase: 'transfer', lines: [TRANSFER_LINE] });
    expect(fleet.launches).toEqual([old.record.socket]);
    expect(old.state).toBe('active');
  });

  it('fails reload-socket at once when nothing serves to take the sockets from', async () => {
    const result = await run('reload-socket');
    expect(result.error).toMatchObject({ code: 'transfer-failed', phase: 'transfer' });
    expect(fleet.launches).toEqual([]);
  });

  it('does nothing on a respawn when a generation already serves', async () => {
    fleet.withActive();
    const result = await run('respawn');
    expect(result).toMatchObject({ ok: true, retired: [] });
    expect(result.generation).toBeUndefined();
    expect(result.warnings).toEqual(['A generation was already serving; nothing to respawn.']);
    expect(fleet.launches).toEqual([]);
    expect(checker.calls).toBe(0);
    expect(baseline.events).toEqual([]);
  });

  it('runs haproxy -c for no start, reload or respawn: one haproxy start each', async () => {
    expect((await run('start')).ok).toBe(true);
    expect(await run('reload')).toMatchObject({ ok: true, generation: { id: 2 } });
    fleet.generations[1]?.exit({ code: null, signal: 'SIGKILL' });
    expect(await run('respawn')).toMatchObject({ ok: true, generation: { id: 3 } });
    expect(fleet.launches).toHaveLength(3);
    expect(checker.calls).toBe(0);
  });

  it('restarts only after the check passed: a bad config terminates nothing', async () => {
    const old = fleet.withActive();
    checker.failure = ['[ALERT]    (1) : bad'];
    const refused = await run('restart');
    expect(refused.error).toMatchObject({ code: 'config-invalid', phase: 'check' });
    expect(fleet.terminated).toEqual([]);
    expect(fleet.launches).toEqual([]);
    expect(old.state).toBe('active');

    checker.failure = undefined;
    const result = await run('restart');
    expect(result).toMatchObject({ ok: true, hitless: false, generation: { id: 2 }, retired: [{ id: old.id }] });
    expect(fleet.terminated).toEqual([old.id]);
    expect(fleet.launches).toEqual([undefined]);
  });

  it('refuses a master-worker config before running anything', async () => {
    writeFileSync(config, 'global\n    master-worker\n');
    const result = await run('reload');
    expect(result.error).toMatchObject({ code: 'config-invalid', phase: 'lint' });
    expect(result.error?.message).toContain('master-worker');
    expect(fleet.launches).toEqual([]);
    expect(checker.calls).toBe(0);
  });

  it('warns once per configuration content that keep-alive clients will fail on reloads, with the fix', async () => {
    const kept = transaction();
    const reload = (mode: ReloadMode) => kept.run({ mode, triggers: ['cli'] });
    writeFileSync(config, 'global\n    hard-stop-after 5m\ndefaults\n    mode http\nfrontend www\n    bind :80\n');
    const first = await reload('start');
    expect(first.warnings).toEqual([expect.stringMatching(/^Keep-alive clients can fail on every reload: HTTP frontend www .* Fix: Add `option idle-close-on-response`/)]);
    expect((await reload('reload')).warnings).toEqual([]);
    writeFileSync(config, 'global\n    hard-stop-after 5m\ndefaults\n    mode http\n    option idle-close-on-response\nfrontend www\n    bind :80\n');
    expect((await reload('reload')).warnings).toEqual([]);
  });

  it('starts the first generation without a transfer', async () => {
    const result = await run('start');
    expect(result).toMatchObject({ ok: true, hitless: false, generation: { id: 1 }, retired: [] });
    expect(fleet.launches).toEqual([undefined]);
  });
});
