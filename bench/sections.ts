import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { sendRequest } from '../src/control/client.js';
import { haproxyPids } from '../test/helpers/haproxy-processes.js';
import { freePort } from '../test/helpers/os-probes.js';
import { Probe } from '../test/helpers/probe.js';
import { quantile, summarize, type Summary } from './stats.js';
import { runAb, runH2, runProbe, type LoadReport } from './tools.js';
import { CLI, largeConfig, manyCertificatesConfig, MODES, smallConfig, Subject, withSubjects, type Mode } from './subjects.js';


/**
 * One load scenario: the tool (ab, the per-request probe, or the browser-like HTTP/2 client over TLS), clients,
 * reload interval, keep-alive, and the budget in requests and seconds. `tls`: HTTPS; `idleClose`: the config has
 * `option idle-close-on-response` (the recommended one); `equalCounts`: the interval is long enough that every mode
 * completes every reload (latency compared at equal reload counts).
 */
export type Scenario = {
  tool: 'ab' | 'probe' | 'h2';
  concurrency: number;
  intervalMs: number;
  keepAlive: boolean;
  requests: number;
  seconds: number;
  tls?: boolean;
  idleClose?: boolean;
  equalCounts?: boolean;
  /** TLS with this many certificates: every start then costs that much more CPU (bench: CPU per reload). */
  certificates?: number;
  /** The modes this scenario compares (default: all). */
  modes?: Mode[];
};

export type LoadRow = Scenario & LoadReport & { mode: Mode; triggers: number; reloads: number; orphans: number };

/** A subject for a scenario's config (small, TLS, HTTP/2, the recommended option, many certificates). */
async function scenarioSubject(mode: Mode, scenario: Scenario): Promise<Subject> {
  const tls = scenario.tls === true || scenario.tool === 'h2' || (scenario.certificates ?? 0) > 0;
  const port = await freePort();
  const options = { idleClose: scenario.idleClose === true, h2: scenario.tool === 'h2' };
  const config = (dir: string): string => ((scenario.certificates ?? 0) > 0 ? manyCertificatesConfig(port, dir, scenario.certificates ?? 0, options) : smallConfig(port, dir, '', tls, options));
  return new Subject(mode, port, config, tls);
}

/**
 * Reloads `subject` every `intervalMs` while `going()`, for at most `seconds` from now: the first reload one interval
 * in (the clients' connections are up, as on a live site), then trigger, wait, sleep out the interval. The last comes
 * at least half an interval before the end: every mode then completes the same number of reloads (a trigger racing
 * the end would count for a mode whose trigger returns at once and not for the others). `onTrigger` is told each
 * trigger's moment, just before it.
 */
export async function reloadEvery(subject: Subject, intervalMs: number, seconds: number, going: () => boolean, onTrigger?: () => void): Promise<void> {
  const lastAt = performance.now() + seconds * 1000 - intervalMs / 2;
  await sleep(intervalMs);
  while (going() && performance.now() <= lastAt) {
    const started = performance.now();
    onTrigger?.();
    await subject.trigger();
    await sleep(Math.max(0, intervalMs - (performance.now() - started)));
  }
}

/**
 * The load for `seconds` while the subject reloads every `intervalMs` (reloadEvery). Meanwhile master-worker's new
 * workers are counted (subjects.ts: its master drops a SIGUSR2 that arrives while it re-executes itself).
 */
async function loadWhileReloading(subject: Subject, scenario: Scenario, seconds: number): Promise<LoadReport> {
  let loading = true;
  const budget = { ...scenario, seconds };
  const run = scenario.tool === 'ab' ? runAb(subject.port, budget) : scenario.tool === 'h2' ? runH2(subject.port, budget) : runProbe(subject.port, budget);
  const load = run.finally(() => (loading = false));
  const reloading = subject.mode === 'none' ? undefined : reloadEvery(subject, scenario.intervalMs, seconds, () => loading);
  const counting = subject.mode === 'master-worker' ? subject.countWorkers(() => loading) : undefined;
  const report = await load;
  await Promise.all([reloading, counting]);
  return report;
}

/** Reload under load: ab, the probe or the HTTP/2 client runs while the mode reloads every `intervalMs`. */
export async function reloadUnderLoad(mode: Mode, scenario: Scenario, settleMs: number): Promise<LoadRow> {
  return (await loadTakingTurns([mode], scenario, 1, settleMs))[0] as LoadRow;
}

/**
 * Every mode's subject running at once (withSubjects), idle but for its turn: `rounds` rounds in which each takes its
 * `turn`, so that whatever else the machine does at some moment falls on every mode alike; then `finish`, while they
 * still run.
 */
export async function takingTurns<T>(
  modes: readonly Mode[],
  subjectFor: (mode: Mode) => Promise<Subject>,
  rounds: number,
  turn: (subject: Subject, index: number) => Promise<void>,
  finish: (subjects: Subject[]) => Promise<T>,
): Promise<T> {
  return withSubjects(modes, subjectFor, async (subjects) => {
    for (let round = 0; round < rounds; round++) {
      for (const [index, subject] of subjects.entries()) await turn(subject, index);
    }
    return finish(subjects);
  });
}

/**
 * The same load against every mode, taking turns (takingTurns): the scenario's time is cut into `rounds` turns per
 * mode. Counts add up over the turns; latency percentiles are the median of the turns'.
 */
export async function loadTakingTurns(modes: readonly Mode[], scenario: Scenario, rounds: number, settleMs: number): Promise<LoadRow[]> {
  const reports: LoadReport[][] = modes.map(() => []);
  const turn = async (subject: Subject, index: number): Promise<void> => {
    reports[index]?.push(await loadWhileReloading(subject, scenario, scenario.seconds / rounds));
  };
  return takingTurns(modes, (mode) => scenarioSubject(mode, scenario), rounds, turn, async (subjects) => {
    await sleep(settleMs); // "haproxy processes still alive N s after the load"
    const rows: LoadRow[] = [];
    for (const [index, subject] of subjects.entries()) {
      const row: LoadRow = { mode: subject.mode, ...scenario, ...combine(reports[index] ?? []), triggers: subject.triggered, reloads: await subject.reloadsCompleted(), orphans: subject.orphans() };
      delete row.modes; // which modes ran is the table itself
      rows.push(row);
    }
    return rows;
  });
}

/** Several turns' reports as one: counts added, the mean weighted by requests, percentiles the median of the turns'. */
export function combine(reports: LoadReport[]): LoadReport {
  const first = reports[0];
  if (first === undefined) throw new Error('no load report to combine');
  if (reports.length === 1) return first;
  const median = (values: number[]): number => quantile([...values].sort((a, b) => a - b), 0.5);
  const requests = reports.reduce((sum, report) => sum + report.requests, 0);
  const failures: Record<string, number> = {};
  for (const report of reports) for (const [kind, count] of Object.entries(report.failures)) failures[kind] = (failures[kind] ?? 0) + count;
  const mean = reports.reduce((sum, report) => sum + report.meanMs * report.requests, 0) / Math.max(1, requests);
  const abError = reports.find((report) => report.abError !== undefined)?.abError;
  return {
    tool: first.tool,
    requests,
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    failures,
    meanMs: Math.round(mean * 1000) / 1000,
    p95Ms: median(reports.map((report) => report.p95Ms)),
    p99Ms: median(reports.map((report) => report.p99Ms ?? 0)),
    rps: Math.round((reports.reduce((sum, report) => sum + (report.rps ?? 0), 0) / reports.length) * 10) / 10,
    aborted: reports.some((report) => report.aborted),
    ...(abError === undefined ? {} : { abError }),
  };
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
  ['diff', 'daemon: reload history'],
  ['prom-client', 'daemon: only with --metrics-listen'],
  ['pino-pretty', 'daemon: only when stdout is a terminal'],
  ['yargs', 'CLI: --help, completion, unusual arguments; not the daemon'],
  ['execa', 'tests and bench only (dev dependency)'],
  ['dist/cli/run-daemon.js', 'the daemon as `run` loads it (pino, diff and its own modules)'],
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
