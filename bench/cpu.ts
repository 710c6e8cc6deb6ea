import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { haproxyPids } from '../test/helpers/haproxy-processes.js';
import { freePort } from '../test/helpers/os-probes.js';
import { summarize, type Summary } from './stats.js';
import { Subject, type Mode } from './subjects.js';

/** CPU per reload of one mode on one config: every process on the machine, less the bench's own and the idle rate. */
export type CpuRow = { mode: Mode; config: string; reloads: number; cpuMsPerReload: number; wallMs: Summary };

/** A config other than the small one: its text for a port and the subject's dir, and whether it serves TLS. */
export type CpuConfig = { text: (port: number, dir: string) => string; tls: boolean };

/** Busy CPU time of the whole machine so far, in ms (/proc/stat's first line: all but idle and iowait). */
function machineBusyMs(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100
}

/** This process's own CPU time so far, in ms (its children, which are the mode's commands, are not in it). */
function ownMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * The subject's haproxy processes settled after a reload: a new pid serves and the old ones are gone. master-worker's
 * master does not take a SIGUSR2 that arrives while it re-executes itself (haproxy 2.6 reports nothing either): a
 * reload that has not begun within 2 s is signalled again.
 */
async function settled(subject: Subject, before: Set<number>, expected: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let resend = Date.now() + 2000;
  for (;;) {
    const pids = haproxyPids(subject.dir);
    if (pids.length === expected && pids.some((pid) => !before.has(pid))) return;
    if (Date.now() > deadline) throw new Error(`${subject.mode}: the reload did not settle`);
    if (subject.mode === 'master-worker' && pids.every((pid) => before.has(pid)) && Date.now() > resend) {
      await subject.trigger();
      resend = Date.now() + 2000;
    }
    await sleep(20);
  }
}

/**
 * CPU per reload, no traffic: `reloads` reloads one after the other, each waited for until the new process serves
 * and the old one has exited. Measured as the machine's busy time (every process: haproxy, the supervisor, its CLI,
 * init-script shells), less this process's own and less the idle rate measured just before over as long.
 */
export async function cpuPerReload(mode: Mode, configName: string, config: CpuConfig | undefined, reloads: number): Promise<CpuRow> {
  const port = await freePort();
  const subject = new Subject(mode, port, undefined, config?.tls === true);
  if (config !== undefined) writeFileSync(subject.config, config.text(port, subject.dir));
  const expected = mode === 'master-worker' ? 2 : 1;
  try {
    await subject.start();
    await sleep(1000);
    const idleStart = [performance.now(), machineBusyMs(), ownMs()] as const;
    await sleep(2000);
    const idleRate = (machineBusyMs() - idleStart[1] - (ownMs() - idleStart[2])) / (performance.now() - idleStart[0]);
    const walls: number[] = [];
    const started = [performance.now(), machineBusyMs(), ownMs()] as const;
    for (let index = 0; index < reloads; index++) {
      const before = new Set(haproxyPids(subject.dir));
      const at = performance.now();
      await subject.trigger();
      await settled(subject, before, expected);
      walls.push(performance.now() - at);
    }
    const elapsed = performance.now() - started[0];
    const busy = machineBusyMs() - started[1] - (ownMs() - started[2]) - idleRate * elapsed;
    return { mode, config: configName, reloads, cpuMsPerReload: Math.round((busy / reloads) * 10) / 10, wallMs: summarize(walls) };
  } finally {
    await subject.stop();
  }
}
