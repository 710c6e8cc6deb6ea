import { readComm } from './proc.js';

/** Init wrappers that run a container's command as their only child and exit with it (docker-init is tini). */
const INIT_WRAPPERS = new Set(['tini', 'docker-init', 'dumb-init', 'catatonit']);

/**
 * Where this process stands in its PID namespace:
 * - `pid1`: it is PID 1 itself (a container's entrypoint without an init): orphans are reparented to it and Node
 *   never reaps them, and its exit ends every process of the namespace.
 * - `behind-init`: its parent is an init wrapper at PID 1 (tini, docker-init, dumb-init), which exits with it: its
 *   exit still ends the container, but orphans are reaped.
 * - `host`: anything else (systemd, sysV, a shell): its exit ends nothing but itself.
 */
export type PidOneRole = 'pid1' | 'behind-init' | 'host';

export function pidOneRole(pid = process.pid, ppid = process.ppid, commOf: (pid: number) => string | undefined = readComm): PidOneRole {
  if (pid === 1) return 'pid1';
  if (ppid === 1 && INIT_WRAPPERS.has(commOf(1) ?? '')) return 'behind-init';
  return 'host';
}
