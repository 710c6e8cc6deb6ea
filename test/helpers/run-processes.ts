import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readState } from '../../src/system/proc.js';
import { processArgv, processEnv } from '../../src/system/processes.js';

/**
 * Everything a test run or a bench run starts carries its run id in `HS_RUN` in its environment: the id is added in
 * the run's own process before it starts anything, children inherit it (execa and child_process pass the
 * environment on, the supervisor passes it to haproxy and the socket keeper), and a detached supervisor keeps it
 * after its parent is gone. So when a run is interrupted, what it started is found by that mark alone, whatever its
 * name or parent, and nothing of another run (or of the machine) is ever touched. Runs nest: a bench started by a
 * test carries both ids (`HS_RUN=test-…,bench-…`), so each ends only its own.
 */
export const RUN_VARIABLE = 'HS_RUN';

/** A new run id, added to this process's `HS_RUN` (inherited by everything started from now on). */
export function markRun(kind: string): string {
  const id = `${kind}-${process.pid}-${randomBytes(6).toString('hex')}`;
  const outer = process.env[RUN_VARIABLE];
  process.env[RUN_VARIABLE] = outer === undefined || outer === '' ? id : `${outer},${id}`;
  return id;
}

/** A new run id for one child process (a bench started by a test) and the environment that marks it with it. */
export function childRun(kind: string): { id: string; env: NodeJS.ProcessEnv } {
  const id = `${kind}-${randomBytes(6).toString('hex')}`;
  const outer = process.env[RUN_VARIABLE];
  return { id, env: { ...process.env, [RUN_VARIABLE]: outer === undefined || outer === '' ? id : `${outer},${id}` } };
}

/**
 * Live processes of this user marked with run `id` (not zombies, not this process), whose command line contains
 * `needle` when given.
 */
export function runPids(id: string, needle?: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .map(Number)
    .filter((pid) => (processEnv(pid, RUN_VARIABLE)?.split(',') ?? []).includes(id))
    .filter((pid) => readState(pid) !== undefined && readState(pid) !== 'Z')
    .filter((pid) => needle === undefined || processArgv(pid).join('\0').includes(needle));
}

/**
 * SIGKILLs every process of run `id` (matching `needle` when given) until none is left or `timeoutMs` passed: a
 * supervisor may respawn haproxy between one look and the kill, so it looks again. Synchronous, so that it can run
 * in a signal handler or an 'exit' listener. Returns the pids it killed.
 */
export function endRun(id: string, needle?: string, timeoutMs = 5000): number[] {
  const killed = new Set<number>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = runPids(id, needle);
    if (pids.length === 0 || Date.now() > deadline) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      } catch {
        // Already gone.
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // let the kernel reap them, then look again
  }
  return [...killed];
}
