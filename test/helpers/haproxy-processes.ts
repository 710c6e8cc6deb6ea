import { readdirSync, readFileSync } from 'node:fs';

/** Marker in every test's temp dir, so leaked haproxy processes can be attributed to the suite. */
export const TEST_MARKER = 'hs-test-';

/** Live haproxy processes (comm "haproxy", not zombies) whose command line contains `needle`. */
export function haproxyPids(needle: string): number[] {
  return pidsNamed('haproxy', needle);
}

/** Live socket keepers (comm "haproxy-keeper") whose command line contains `needle`. */
export function keeperPids(needle: string): number[] {
  return pidsNamed('haproxy-keeper', needle);
}

function pidsNamed(comm: string, needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

/** SIGKILLs them; returns how many there were. */
export function killAll(pids: number[]): number {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return pids.length;
}
