import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { sendRequest } from '../src/control/client.js';
import { haproxyPids } from '../test/helpers/haproxy-processes.js';
import { freePort } from '../test/helpers/os-probes.js';
import { Probe } from '../test/helpers/probe.js';
import { summarize, type Summary } from './stats.js';
import { runAb, runProbe, type LoadReport } from './tools.js';
import { CLI, largeConfig, MODES, Subject, type Mode } from './subjects.js';


/** One load scenario: clients, reload interval, keep-alive, and the budget in requests and seconds. */
export type Scenario = { tool: 'ab' | 'probe'; concurrency: number; intervalMs: number; keepAlive: boolean; requests: number; seconds: number; tls?: boolean };

export type LoadRow = Scenario & LoadReport & { mode: Mode; triggers: number; reloads: number; orphans: number };

/** Reload under load: ab or the probe runs while the mode reloads every `intervalMs` (trigger, wait, sleep). */
export async function reloadUnderLoad(mode: Mode, scenario: Scenario, settleMs: number): Promise<LoadRow> {
  const subject = new Subject(mode, await freePort(), undefined, scenario.tls === true);
  try {
    await subject.start();
    let loading = true;
    const load = (scenario.tool === 'ab' ? runAb(subject.port, scenario) : runProbe(subject.port, scenario)).finally(() => (loading = false));
    const reloading = (async () => {
      if (mode === 'none') return;
      while (loading) {
        const started = performance.now();
        await subject.trigger();
        await sleep(Math.max(0, scenario.intervalMs - (performance.now() - started)));
      }
    })();
    const report = await load;
    await reloading;
    await sleep(settleMs); // "haproxy processes still alive N s after the load"
    return { mode, ...scenario, ...report, triggers: subject.triggered, reloads: await subject.reloadsCompleted(), orphans: subject.orphans() };
  } finally {
    await subject.stop();
  }
}

export type RaceRow = { mode: 'init-x' | 'supervisor-cli'; rounds: number; perRound: number; alive: number; orphans: number };

/** `perRound` reload triggers at once, `rounds` times; then how many haproxy processes are left once idle. */
export async function racingTriggers(mode: 'init-x' | 'supervisor-cli', rounds: number, perRound: number, settleMs: number): Promise<RaceRow> {
  const subject = new Subject(mode, await freePort());
  try {
    await subject.start();
    for (let round = 0; round < rounds; round++) {
      await Promise.all(Array.from({ length: perRound }, () => subject.trigger()));
    }
    await sleep(settleMs);
    return { mode, rounds, perRound, alive: subject.haproxyCount(), orphans: subject.orphans() };
  } finally {
    await subject.stop();
  }
}

/** `key` names the row for the targets table (report.ts). */
export type LatencyRow = { config: string; what: string; ms: Summary; key?: 'raw' | 'check' | 'daemon' | 'cli' | 'node' };

/** Reload latency: raw `haproxy -D -x -sf` vs the supervisor (daemon-side and CLI end to end), same config. */
export async function reloadLatency(configName: string, backends: number, reloads: number): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = [];
  const raw = new Subject('init-x', await freePort());
  const text = (subject: Subject): string => (backends === 0 ? readFileSync(subject.config, 'utf8') : largeConfig(subject.port, subject.dir, backends));
  writeFileSync(raw.config, text(raw));
  try {
    await raw.start();
    const times: number[] = [];
    for (let index = 0; index < reloads; index++) {
      const started = performance.now();
      await raw.trigger();
      times.push(performance.now() - started);
    }
    rows.push({ config: configName, what: 'raw haproxy -D -x -sf (command returns)', ms: summarize(times), key: 'raw' });
    const check: number[] = [];
    for (let index = 0; index < Math.min(reloads, 10); index++) {
      const started = performance.now();
      await execa('haproxy', ['-c', '-f', raw.config], { reject: false });
      check.push(performance.now() - started);
    }
    rows.push({ config: configName, what: 'raw haproxy -c', ms: summarize(check), key: 'check' });
    const node: number[] = [];
    for (let index = 0; index < Math.min(reloads, 10); index++) {
      const started = performance.now();
      await execa('node', ['-e', ''], { reject: false });
      node.push(performance.now() - started);
    }
    rows.push({ config: configName, what: "`node -e ''` (Node's own start: the CLI's floor)", ms: summarize(node), key: 'node' });
  } finally {
    await raw.stop();
  }
  const supervised = new Subject('supervisor-cli', await freePort());
  writeFileSync(supervised.config, text(supervised));
  try {
    await supervised.start();
    const cli: number[] = [];
    const daemon: number[] = [];
    const prepareMs: number[] = [];
    const checkMs: number[] = [];
    const readyMs: number[] = [];
    for (let index = 0; index < reloads; index++) {
      const started = performance.now();
      const result = await execa(CLI, ['reload', '--json', '--run-dir', supervised.runDir], { reject: false }); // the bin, through its shebang
      cli.push(performance.now() - started);
      const parsed = JSON.parse(String(result.stdout)) as { durationMs: number; timings: { prepareMs?: number; checkMs?: number; readyMs?: number } };
      daemon.push(parsed.durationMs);
      prepareMs.push(parsed.timings.prepareMs ?? 0);
      checkMs.push(parsed.timings.checkMs ?? 0);
      readyMs.push(parsed.timings.readyMs ?? 0);
    }
    rows.push({ config: configName, what: 'supervisor daemon-side (request → new generation ready)', ms: summarize(daemon), key: 'daemon' });
    rows.push({ config: configName, what: '… of which reading the config (then, in parallel:)', ms: summarize(prepareMs) });
    rows.push({ config: configName, what: '… of which haproxy -c', ms: summarize(checkMs) });
    rows.push({ config: configName, what: '… of which spawn → ready', ms: summarize(readyMs) });
    rows.push({ config: configName, what: 'supervisor CLI end to end (`reload` command)', ms: summarize(cli), key: 'cli' });
  } finally {
    await supervised.stop();
  }
  return rows;
}

/** `phase` and `reloads` (done by then) place the row for the targets table (report.ts). */
export type FootprintRow = { when: string; phase?: 'start' | 'reloads' | 'drained'; reloads?: number; rssMiB: number; fds: number; liveGenerations: number };

function footprint(pid: number): { rssMiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round((rssKiB / 1024) * 10) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** Supervisor RSS and fds at start, after `reloads` reloads (over the control socket), and once they drained. */
export async function supervisorFootprint(reloads: number): Promise<FootprintRow[]> {
  const subject = new Subject('supervisor-cli', await freePort());
  const rows: FootprintRow[] = [];
  try {
    await subject.start();
    const pid = subject.supervisorPid ?? 0;
    rows.push({ when: 'after start', phase: 'start', reloads: 0, ...footprint(pid), liveGenerations: subject.haproxyCount() });
    for (let index = 0; index < reloads; index++) {
      await sendRequest(subject.runDir, { cmd: 'reload', mode: 'reload' });
      // The growth target is measured from here (V8's heap and code caches have settled) to the end.
      if (index + 1 === 100 && reloads > 100) rows.push({ when: 'after 100 reloads', phase: 'reloads', reloads: 100, ...footprint(pid), liveGenerations: subject.haproxyCount() });
    }
    rows.push({ when: `after ${reloads} reloads`, phase: 'reloads', reloads, ...footprint(pid), liveGenerations: subject.haproxyCount() });
    const deadline = Date.now() + 30_000;
    while (subject.haproxyCount() > 1 && Date.now() < deadline) await sleep(100);
    await sleep(1000);
    rows.push({ when: 'after they drained', phase: 'drained', reloads, ...footprint(pid), liveGenerations: subject.haproxyCount() });
  } finally {
    await subject.stop();
  }
  return rows;
}

/** `baseline`: bare node, in absolute figures; every other row is its cost over it. */
export type DependencyRow = { module: string; when: string; rssMiB: number; heapMiB: number; baseline?: true };

/** Which modules the daemon loads, and when (the "measure what each dependency costs at start"). */
const DEPENDENCIES: Array<[module: string, when: string]> = [
  ['pino', 'daemon: logging'],
  ['chokidar', 'daemon: --watch (the default)'],
  ['diff', 'daemon: reload history'],
  ['prom-client', 'daemon: only with --metrics-listen'],
  ['pino-pretty', 'daemon: only when stdout is a terminal'],
  ['yargs', 'CLI: --help, completion, unusual arguments; not the daemon'],
  ['execa', 'tests and bench only (dev dependency)'],
  ['dist/cli/run-daemon.js', 'the daemon as `run` loads it (pino, chokidar, diff and its own modules)'],
];

/** RSS and heap (MiB) of a fresh `node` with `nodeFlags` once `specifier` is imported (nothing: bare node), median of 3. */
async function nodeFootprint(nodeFlags: string[], specifier: string | undefined): Promise<{ rss: number; heap: number }> {
  const load = specifier === undefined ? 'Promise.resolve()' : `import(${JSON.stringify(specifier)})`;
  const script = `${load}.then(() => setTimeout(() => { const s = require('fs').readFileSync('/proc/self/status', 'utf8'); console.log(JSON.stringify({ rss: Number(/VmRSS:\\s+(\\d+)/.exec(s)[1]) / 1024, heap: process.memoryUsage().heapUsed / 2 ** 20 })); }, 100))`;
  const runs: Array<{ rss: number; heap: number }> = [];
  // From the project's root, where its node_modules resolve the bare names.
  for (let index = 0; index < 3; index++) runs.push(JSON.parse(String((await execa('node', [...nodeFlags, '-e', script], { cwd: PROJECT_ROOT })).stdout)) as { rss: number; heap: number });
  return runs.sort((a, b) => a.rss - b.rss)[1] ?? { rss: 0, heap: 0 };
}

const PROJECT_ROOT = path.resolve(path.dirname(CLI), '../..');

/** Bare node, then each module alone over bare node. */
export async function dependencyCosts(nodeFlags: string[]): Promise<DependencyRow[]> {
  const round = (value: number): number => Math.round(value * 10) / 10;
  const bare = await nodeFootprint(nodeFlags, undefined);
  const rows: DependencyRow[] = [{ module: '(bare node)', when: 'always', rssMiB: round(bare.rss), heapMiB: round(bare.heap), baseline: true }];
  for (const [module, when] of DEPENDENCIES) {
    const cost = await nodeFootprint(nodeFlags, module.startsWith('dist/') ? pathToFileURL(path.join(PROJECT_ROOT, module)).href : module);
    rows.push({ module, when, rssMiB: round(cost.rss - bare.rss), heapMiB: round(cost.heap - bare.heap) });
  }
  return rows;
}

export type CrashRow = {
  mode: Mode;
  kills: number;
  /** Kills after which the service answered again within 5 s. */
  recovered: number;
  recoveryMs: Summary;
  /** Failed probe requests per kill, by kind: refused (nothing listened), reset, and the rest (in flight). */
  refusedPerKill: number;
  resetPerKill: number;
  otherPerKill: number;
};

/** The process that serves for a mode: the supervisor's active generation, master-worker's worker, the daemon. */
async function servingPid(subject: Subject): Promise<number | undefined> {
  if (subject.mode.startsWith('supervisor')) {
    const status = await sendRequest(subject.runDir, { cmd: 'status' }).catch(() => undefined);
    return status?.generations.find((generation) => generation.state === 'active')?.pid;
  }
  const pids = haproxyPids(subject.dir);
  if (subject.mode === 'master-worker') return pids.find((pid) => pid !== subject.masterPid);
  return pids[0];
}

/**
 * Crash under load: the per-request probe runs while the serving haproxy is killed (-9) `kills` times, each after
 * it served 1.5 s (as an OOM killer would). Counts the failed requests per kill by kind and how long until the
 * service answers again. A mode that does not recover is killed once.
 */
export async function crashUnderLoad(mode: Mode, kills: number): Promise<CrashRow> {
  const subject = new Subject(mode, await freePort());
  const recoveries: number[] = [];
  let done = 0;
  try {
    await subject.start();
    const probe = new Probe(subject.port, { concurrency: 50, maxRequests: 2_000_000, maxMs: (kills * 7 + 10) * 1000 }).start();
    for (let kill = 0; kill < kills; kill++) {
      await sleep(1500);
      const pid = await servingPid(subject);
      if (pid === undefined) break;
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      done++;
      const recovered = await subject.answersWithin(5000);
      if (!recovered) break;
      recoveries.push(performance.now() - killedAt);
    }
    await sleep(500);
    const report = await probe.stop();
    const count = (kind: string): number => report.failures[kind] ?? 0;
    const perKill = (value: number): number => Math.round((value / Math.max(1, done)) * 10) / 10;
    const refused = count('ECONNREFUSED');
    const reset = count('ECONNRESET');
    return { mode, kills: done, recovered: recoveries.length, recoveryMs: summarize(recoveries), refusedPerKill: perKill(refused), resetPerKill: perKill(reset), otherPerKill: perKill(report.failed - refused - reset) };
  } finally {
    await subject.stop();
  }
}

export { MODES };
