import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { haproxyPids } from '../test/helpers/haproxy-processes.js';
import { freePort } from '../test/helpers/os-probes.js';
import { summarize, type Summary } from './stats.js';
import { Subject, withSubjects, type Mode } from './subjects.js';

/**
 * CPU per reload of one mode on one config: every process on the machine, less the bench's own and the idle rate.
 * `cpuMs`: each reload's, in the order of the rounds (round i of every mode ran back to back: pairs for `pairedDifference`;
 * absent in results recorded before it was kept). `warmup`: reloads of each mode before the measured ones (absent: 1).
 */
export type CpuRow = { mode: Mode; config: string; reloads: number; warmup?: number; cpuMsPerReload: number; cpuMs?: number[]; wallMs: Summary };

/** A config other than the small one: its text for a port and the subject's dir, and whether it serves TLS. */
export type CpuConfig = { text: (port: number, dir: string) => string; tls: boolean };

/**
 * Where the machine's busy CPU time is read: the root cgroup's counter of every task's CPU time (cgroup v2
 * `cpu.stat` usage_usec, or v1 `cpuacct.usage` in ns), else /proc/stat, whose 10 ms ticks make a reload of ~50 ms a
 * coarse sample (the paired difference's interval then comes out several times wider).
 */
const CPU_COUNTERS = [
  { name: 'cgroup v2 cpu.stat (µs)', file: '/sys/fs/cgroup/cpu.stat', ms: (text: string) => Number(/^usage_usec (\d+)$/m.exec(text)?.[1]) / 1000 },
  { name: 'cgroup v1 cpuacct.usage (ns)', file: '/sys/fs/cgroup/cpuacct/cpuacct.usage', ms: (text: string) => Number(text.trim()) / 1e6 },
  { name: '/proc/stat (10 ms ticks)', file: '/proc/stat', ms: procStatBusyMs },
] as const;

/** Busy time in ms from /proc/stat's first line: user, nice, system, irq, softirq (not idle, iowait or steal). */
function procStatBusyMs(text: string): number {
  const fields = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields;
  return ((user + nice + system + irq + softirq) * 1000) / 100; // USER_HZ is 100
}

/** The first counter this machine has that reads as a number. */
export const cpuCounter = CPU_COUNTERS.find((counter) => {
  try {
    return Number.isFinite(counter.ms(readFileSync(counter.file, 'utf8')));
  } catch {
    return false;
  }
}) ?? CPU_COUNTERS[2];

/** Busy CPU time of the whole machine so far, in ms. */
function machineBusyMs(): number {
  return cpuCounter.ms(readFileSync(cpuCounter.file, 'utf8'));
}

/** This process's own CPU time so far, in ms (its children, which are the modes' commands, are not in it). */
function ownMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** Busy time of the machine less this process's own, from `since` (a reading of `reading()`). */
function reading(): { at: number; busy: number } {
  return { at: performance.now(), busy: machineBusyMs() - ownMs() };
}

/** Reloads not measured first for a mode that is not the supervisor: its caches are warm after these. */
const HAPROXY_WARMUP = 2;

/** How long a reload's window stays open after its old process exited (the idle rate is subtracted for it). */
const TAIL_MS = 100;

/**
 * The subject's haproxy processes settled after a reload: a new pid serves and the old ones are gone. master-worker's
 * master does not take a SIGUSR2 that arrives while it re-executes itself (haproxy 2.6 reports nothing either): a
 * reload that has not begun within 2 s is signalled again.
 */
async function settled(subject: Subject, before: Set<number>): Promise<void> {
  const expected = subject.mode === 'master-worker' ? 2 : 1;
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

/** One reload, waited for until the new process serves and the old one has exited; returns its wall time. */
async function reloadOnce(subject: Subject): Promise<number> {
  const before = new Set(haproxyPids(subject.dir));
  const at = performance.now();
  await subject.trigger();
  await settled(subject, before);
  return performance.now() - at;
}

/**
 * CPU per reload, no traffic, every mode side by side: all subjects run at once (idle but for their reloads), and
 * `reloads` rounds reload each mode in turn, one reload at a time, each waited for until the new process serves and
 * the old one has exited, then TAIL_MS more. A reload's CPU is the machine's busy time over its window (every process:
 * haproxy, the supervisor, its CLI, init-script shells), less this process's own and less the idle rate measured just
 * before.
 * Taking turns spreads the machine's own noise over every mode alike. The supervisor's modes first reload `warmup`
 * times, not measured: what is measured is a reload of a running installation, not the first ones after a start (V8
 * compiles the supervisor's reload path over its first few dozen reloads, which then cost it 1.5–2 ms more each: a
 * start-up cost). The other modes start a new haproxy per reload and warm up in HAPROXY_WARMUP reloads.
 */
export async function cpuPerReload(modes: readonly Mode[], configName: string, config: CpuConfig | undefined, reloads: number, warmup: number): Promise<CpuRow[]> {
  const subjectFor = async (mode: Mode): Promise<Subject> => {
    const port = await freePort();
    return new Subject(mode, port, config === undefined ? undefined : (dir) => config.text(port, dir), config?.tls === true);
  };
  return withSubjects(modes, subjectFor, async (subjects) => {
    // Reloads not measured first, in turns like the measured ones: caches warm up alike (the supervisor's watch reads
    // each referenced file once, as its start does with files older than a second), and V8 compiles the reload path.
    const warmupOf = (subject: Subject): number => Math.max(1, subject.mode.startsWith('supervisor') ? warmup : Math.min(warmup, HAPROXY_WARMUP));
    await sleep(1200);
    for (let round = 0; round < Math.max(...subjects.map(warmupOf)); round++) {
      for (const subject of subjects) if (round < warmupOf(subject)) await reloadOnce(subject);
    }
    // The last warm-up's after-work (TAIL_MS) is over well before the idle rate is read. A second of it is enough:
    // idle, the counter moved by about 8 µs per ms on 2 cores (2026-12-02), 1–2 ms over a reload's window.
    await sleep(500);
    const idleStart = reading();
    await sleep(1000);
    const idleEnd = reading();
    const idleRate = (idleEnd.busy - idleStart.busy) / (idleEnd.at - idleStart.at);
    const cpu: number[][] = subjects.map(() => []);
    const walls: number[][] = subjects.map(() => []);
    for (let round = 0; round < reloads; round++) {
      for (const [index, subject] of subjects.entries()) {
        const start = reading();
        walls[index]?.push(await reloadOnce(subject));
        // What a mode does after its old process exited belongs to its reload too (the supervisor's state.json write
        // 50 ms later, its history line): without this wait it fell into the next mode's window.
        await sleep(TAIL_MS);
        const end = reading();
        cpu[index]?.push(end.busy - start.busy - idleRate * (end.at - start.at));
      }
    }
    return subjects.map((subject, index) => ({
      mode: subject.mode,
      config: configName,
      reloads,
      warmup: warmupOf(subject),
      cpuMsPerReload: Math.round(((cpu[index] ?? []).reduce((sum, ms) => sum + ms, 0) / reloads) * 10) / 10,
      cpuMs: (cpu[index] ?? []).map((ms) => Math.round(ms * 10) / 10),
      wallMs: summarize(walls[index] ?? []),
    }));
  });
}
