import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** CAP_SYS_NICE: raising a process's priority back (a lower nice value) needs it (capabilities(7)). */
const CAP_SYS_NICE = 23n;

/** True when this process may raise a priority it lowered: root with CAP_SYS_NICE in its effective set. */
export function mayRaisePriority(): boolean {
  try {
    const hex = /^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return hex !== undefined && ((BigInt(`0x${hex}`) >> CAP_SYS_NICE) & 1n) === 1n;
  } catch {
    return false;
  }
}

/**
 * Sets `pid`'s nice value. On Linux a nice value belongs to a thread: set right after the spawn, before haproxy has
 * started its threads, it is inherited by all of them. Returns false when the kernel refused.
 */
export function setNice(pid: number, nice: number): boolean {
  try {
    os.setPriority(pid, nice);
    return true;
  } catch {
    return false;
  }
}

/** Sets the nice value of every thread of `pid` (/proc/<pid>/task); returns false when one was refused. */
export function setNiceAllThreads(pid: number, nice: number): boolean {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tids.map((tid) => setNice(Number(tid), nice)).every(Boolean);
}
