import { readFileSync } from 'node:fs';

/** A process as the kernel names it: pid plus start time (clock ticks since boot, /proc/<pid>/stat field 22). */
export type ProcessIdentity = { pid: number; startTime: number };

/** Start time of `pid` in clock ticks since boot, or undefined when there is no such process. */
export function readStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: the fields after it start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  const startTime = Number(rest[19]);
  const state = rest[0];
  if (!Number.isFinite(startTime) || state === 'Z' || state === 'X') return undefined;
  return startTime;
}

/** The identity of a live pid, or undefined. */
export function identify(pid: number): ProcessIdentity | undefined {
  const startTime = readStartTime(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** True when the pid is alive and is still the process recorded (not a recycled pid). */
export function isSameProcess(identity: ProcessIdentity): boolean {
  return readStartTime(identity.pid) === identity.startTime;
}

/** /proc/<pid>/comm without the newline, or undefined. */
export function readComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/stat's state letter (R running, S sleeping, D disk wait, T stopped, t traced, Z zombie…), or undefined. */
export function readState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** When a process started, from its start time in clock ticks and the boot time in /proc/stat (USER_HZ is 100). */
export function startDate(startTime: number): Date {
  let bootSeconds = 0;
  try {
    bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? 0);
  } catch {
    // Not Linux: unknown.
  }
  return new Date((bootSeconds + startTime / 100) * 1000);
}

/** A process's control group (/proc/<pid>/cgroup), or undefined when it is gone. */
export function readCgroup(pid: number | 'self'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
}
