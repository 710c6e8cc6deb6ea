import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { endRun, markRun } from '../test/helpers/run-processes.js';
import { freeStem, toMarkdown, toSvg, type BenchResult } from './report.js';
import { crashUnderLoad, dependencyCosts, loadTakingTurns, MODES, racingTriggers, reloadLatency, reloadUnderLoad, supervisorFootprint, type Scenario } from './sections.js';
import type { Mode } from './subjects.js';
import { DAEMON_NODE_FLAGS } from '../src/cli/commands/start.js';
import { liveSubjectDirs, manyCertificatesConfig, smallConfig } from './subjects.js';
import { cpuCounter, cpuPerReload, type CpuConfig } from './cpu.js';
import { hungUnderLoad } from './hung.js';
import { brokenReload } from './verify.js';
import { ensureAb } from './tools.js';
import { reloadTimeline } from './timeline.js';

/**
 * npm run bench [-- --quick | --smoke] [--only SECTIONS] [--out DIR]   |   npm run bench -- --render bench/results/<date>.json
 * Full: every mode × ab over c ∈ {100, 200} × every {200, 50} ms × keep-alive or not, plus the per-request probe
 * (c=100 every 200 ms, c=200 every 50 ms); racing; latency on a
 * small and a 5 000-backend config; crash under load (8 kill -9 of the serving haproxy); footprint over 1 000 reloads. --quick: under 3 minutes. --smoke: seconds
 * (the test suite runs it to keep the harness from rotting).
 */
const args = process.argv.slice(2);
const profile = args.includes('--smoke') ? 'smoke' : args.includes('--quick') ? 'quick' : 'full';
const outIndex = args.indexOf('--out');
const outDir = path.resolve(outIndex >= 0 ? (args[outIndex + 1] ?? 'bench/results') : 'bench/results');
/** `--only load,timeline,racing,crash,latency,footprint`: just those sections (iterating on one figure); default all. */
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',')) : undefined;
/** The run's own flags, as its results name the command. */
const flags = [...(profile === 'full' ? [] : [`--${profile}`]), ...(only === undefined ? [] : ['--only', [...only].join(',')])];
const runs = (section: 'load' | 'timeline' | 'racing' | 'crash' | 'hung' | 'verify' | 'latency' | 'footprint' | 'cpu'): boolean => only === undefined || only.has(section);

/** Every combination of clients, reload interval and keep-alive with ab; the probe (new connection each) too. */
function matrix(seconds: number, headline: { requests: number; seconds: number }): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const keepAlive of [false, true]) {
    for (const [concurrency, intervalMs] of [[100, 200], [100, 50], [200, 200], [200, 50]] as const) {
      const isHeadline = !keepAlive && concurrency === 200 && intervalMs === 50;
      scenarios.push({ tool: 'ab', concurrency, intervalMs, keepAlive, requests: isHeadline ? headline.requests : 100_000, seconds: isHeadline ? headline.seconds : seconds });
    }
  }
  for (const [concurrency, intervalMs] of [[100, 200], [200, 50]] as const) {
    scenarios.push({ tool: 'probe', concurrency, intervalMs, keepAlive: false, requests: 200_000, seconds });
  }
  // Seed 001's table: 10k requests over TLS, a reload every 200 ms, 100 and 200 users.
  for (const concurrency of [100, 200]) scenarios.push({ tool: 'ab', concurrency, intervalMs: 200, keepAlive: false, requests: 10_000, seconds: 60, tls: true });
  return scenarios;
}

/** The ways to reload compared side by side: the init script, master-worker and the supervisor by SIGHUP. */
const RELOADING = ['init-x', 'master-worker', 'supervisor-hup'] as const;

/**
 * What reloads cost live traffic, side by side (issue 19): latency at equal reload counts (a reload every 500 ms,
 * which every mode completes) over HTTP and TLS; keep-alive clients with a reload every 50 ms, with the recommended
 * `option idle-close-on-response` and (`withoutOption`) without it; HTTP/2 over TLS with a browser-like client, at
 * equal counts and (`everyFast`) every 200 ms.
 */
function liveTraffic(seconds: number, options: { withoutOption: boolean; everyFast: boolean; http: boolean; cli: boolean }): Scenario[] {
  const anchors: Mode[] = ['none', ...RELOADING];
  const reloading: Mode[] = [...RELOADING];
  const scenarios: Scenario[] = [];
  for (const tls of options.http ? [false, true] : [true]) {
    scenarios.push({ tool: 'ab', concurrency: 100, intervalMs: 500, keepAlive: false, requests: 5_000_000, seconds, tls, equalCounts: true, modes: options.cli ? [...anchors, 'supervisor-cli'] : anchors });
  }
  for (const idleClose of options.withoutOption ? [true, false] : [true]) {
    scenarios.push({ tool: 'ab', concurrency: 100, intervalMs: 50, keepAlive: true, requests: 200_000, seconds, idleClose, modes: reloading });
  }
  scenarios.push({ tool: 'h2', concurrency: 20, intervalMs: 500, keepAlive: true, requests: 0, seconds, equalCounts: true, modes: anchors });
  if (options.everyFast) scenarios.push({ tool: 'h2', concurrency: 20, intervalMs: 200, keepAlive: true, requests: 0, seconds, modes: anchors });
  return scenarios;
}

const PLAN = {
  full: {
    scenarios: [...matrix(10, { requests: 250_000, seconds: 30 }), ...liveTraffic(12, { withoutOption: true, everyFast: true, http: true, cli: true })],
    settleMs: 5000,
    turns: 4,
    racing: { rounds: 5, perRound: 10 },
    crashKills: 8,
    hungWaitMs: 10_000,
    latency: [
      ['small (1 frontend)', 0, 30],
      ['large (5 000 backends × 4 servers)', 5000, 30],
    ] as Array<[string, number, number]>,
    footprintReloads: 1000,
    cpu: { small: 80, lean: 40, warmup: 40, certificates: 1000, certificateReloads: 20, certificateWarmup: 2 },
    timeline: { rounds: 10, seconds: 5.5, intervalMs: 500 },
  },
  // Under 3 minutes on 2 cores: what a reload costs (CPU, live latency, keep-alive, HTTP/2); the full run has the rest.
  quick: {
    scenarios: liveTraffic(6, { withoutOption: false, everyFast: false, http: true, cli: false }),
    settleMs: 1500,
    turns: 3,
    racing: { rounds: 0, perRound: 0 },
    crashKills: 0,
    hungWaitMs: 0,
    latency: [] as Array<[string, number, number]>,
    footprintReloads: 0,
    // 500 certificates rather than the full run's 1 000: a start then takes half a second, not one, and the fixed part
    // of a reload weighs twice as much against the raw `-D -x -sf` (the 1.1× target is the harder for it).
    cpu: { small: 30, lean: 0, warmup: 40, certificates: 500, certificateReloads: 5, certificateWarmup: 1 },
    timeline: { rounds: 0, seconds: 0, intervalMs: 500 },
  },
  smoke: {
    scenarios: [
      { tool: 'ab', concurrency: 20, intervalMs: 200, keepAlive: false, requests: 2000, seconds: 1 },
      { tool: 'probe', concurrency: 10, intervalMs: 200, keepAlive: false, requests: 2000, seconds: 1 },
    ] as Scenario[],
    settleMs: 500,
    turns: 1,
    racing: { rounds: 1, perRound: 3 },
    crashKills: 1,
    hungWaitMs: 0,
    latency: [['small (1 frontend)', 0, 3]] as Array<[string, number, number]>,
    footprintReloads: 5,
    cpu: { small: 3, lean: 0, warmup: 1, certificates: 0, certificateReloads: 0, certificateWarmup: 0 },
    // One short turn per mode and protocol: the C client and its TLS build cannot rot.
    timeline: { rounds: 1, seconds: 1, intervalMs: 200 },
  },
}[profile];

const modes = profile === 'smoke' ? (['none', 'init-x', 'supervisor-hup'] as const) : MODES;

/** What the run is doing now (the last section it logged), for a partial result's note. */
let section = 'start-up';

function log(message: string): void {
  section = message;
  process.stderr.write(`[bench] ${message}\n`);
}

/** Writes what was measured so far (set once main() has a result to write). */
let saveResult: ((partial?: BenchResult['partial']) => void) | undefined;

/** `--render results.json`: re-renders the .md and .svg of an earlier run beside it (no measuring). */
function render(file: string): void {
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const stem = file.replace(/\.json$/, '');
  writeFileSync(`${stem}.md`, `${toMarkdown(result)}\n![failed requests per mode](${path.basename(stem)}.svg)\n`);
  writeFileSync(`${stem}.svg`, toSvg(result));
  process.stdout.write(`rendered ${stem}.{md,svg}\n`);
}

async function main(): Promise<void> {
  const renderIndex = args.indexOf('--render');
  if (renderIndex >= 0) {
    render(path.resolve(args[renderIndex + 1] ?? ''));
    return;
  }
  ensureAb();
  const started = performance.now();
  const result: BenchResult = {
    date: new Date().toISOString().slice(0, 10),
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      haproxy: execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0]?.replace('HAProxy version ', 'haproxy ').split(' - ')[0] ?? 'haproxy',
      kernel: os.release(),
      cpuCounter: cpuCounter.name,
    },
    command: ['npm run bench', ...(flags.length === 0 ? [] : ['--', ...flags])].join(' '),
    load: [],
    racing: [],
    crash: [],
    latency: [],
    footprint: [],
    cpu: [],
    hung: [],
    verify: [],
  };
  // Saved after every section: a failure late in a long run keeps what was measured.
  // A run never overwrites an earlier one: the second run of a day in the same dir is <date>[-profile]-2, and so on.
  let stem: string | undefined;
  const save = (partial?: BenchResult['partial']): void => {
    if (partial !== undefined) result.partial = partial;
    result.durationS = Math.round((performance.now() - started) / 1000);
    mkdirSync(outDir, { recursive: true });
    stem ??= freeStem(path.join(outDir, `${result.date}${profile === 'full' ? '' : `-${profile}`}`));
    writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${stem}.md`, `${toMarkdown(result)}\n![failed requests per mode](${path.basename(stem)}.svg)\n`);
    writeFileSync(`${stem}.svg`, toSvg(result));
  };
  saveResult = save;
  for (const scenario of runs('load') ? PLAN.scenarios : []) {
    const what = `load (${scenario.tool}): c=${scenario.concurrency}, every ${scenario.intervalMs} ms${scenario.keepAlive ? ', keep-alive' : ''}${scenario.tls === true ? ', TLS' : ''}`;
    if (scenario.modes !== undefined) {
      // The live-traffic comparisons: every mode at once, taking turns (sections.ts).
      log(`${what}: ${scenario.modes.join(', ')} taking turns`);
      result.load.push(...(await loadTakingTurns(scenario.modes, scenario, PLAN.turns, PLAN.settleMs)));
    } else {
      for (const mode of modes) {
        log(`${what}: ${mode}`);
        result.load.push(await reloadUnderLoad(mode, scenario, PLAN.settleMs));
      }
    }
    save();
  }
  if (runs('timeline') && PLAN.timeline.rounds > 0) {
    const { rounds, seconds, intervalMs } = PLAN.timeline;
    for (const tls of [false, true]) {
      const what = `reload timeline${tls ? ' over TLS' : ''}`;
      log(`${what}: ${rounds} turns of ${seconds} s per mode, a reload every ${intervalMs} ms`);
      const rows = await reloadTimeline(['none', ...RELOADING], rounds, seconds, intervalMs, tls);
      if ('missing' in rows) log(`${what} skipped: ${rows.missing}`);
      else result[tls ? 'timelineTls' : 'timeline'] = { seconds, intervalMs, rows };
      save();
    }
  }
  for (const mode of runs('racing') && PLAN.racing.rounds > 0 ? (['init-x', 'supervisor-cli'] as const) : []) {
    log(`racing: ${mode}`);
    result.racing.push(await racingTriggers(mode, PLAN.racing.rounds, PLAN.racing.perRound, PLAN.settleMs));
  }
  save();
  const crashModes = profile === 'smoke' ? (['supervisor-hup'] as const) : (['init-x', 'master-worker', 'supervisor-hup'] as const);
  for (const mode of runs('crash') && PLAN.crashKills > 0 ? crashModes : []) {
    log(`crash under load: ${mode}, ${PLAN.crashKills} kills`);
    result.crash?.push(await crashUnderLoad(mode, PLAN.crashKills));
  }
  save();
  for (const mode of runs('hung') && PLAN.hungWaitMs > 0 ? crashModes : []) {
    log(`hung under load: ${mode}`);
    result.hung?.push(await hungUnderLoad(mode, PLAN.hungWaitMs));
  }
  save();
  for (const mode of runs('verify') && PLAN.hungWaitMs > 0 ? (['init-x', 'master-worker', 'supervisor-cli'] as const) : []) {
    log(`broken but valid reload under load: ${mode}`);
    result.verify?.push(await brokenReload(mode));
  }
  save();
  // The CLI's own start (a Node process per reload, about 100 ms of CPU) is in the full run; quick keeps to the targets.
  const cpuModes = { smoke: ['init-x', 'supervisor-hup'] as const, quick: RELOADING, full: [...RELOADING, 'supervisor-cli'] as const }[profile];
  // [name, config, measured reloads, reloads not measured first] (a start with many certificates takes a second).
  const cpuConfigs: Array<[string, CpuConfig | undefined, number, number]> = [['small (1 frontend)', undefined, PLAN.cpu.small, PLAN.cpu.warmup]];
  // The same config without the system CA bundle haproxy loads at every start for its HTTP client (README: "What a
  // reload costs"): what is left of a reload once haproxy's own start is lean, so the fixed costs show.
  const lean = { text: (port: number, dir: string) => smallConfig(port, dir, '', false, { noSystemCa: true }), tls: false };
  if (PLAN.cpu.lean > 0) cpuConfigs.push(['small, `httpclient.ssl.verify none`', lean, PLAN.cpu.lean, PLAN.cpu.warmup]);
  const certificates = { text: (port: number, dir: string) => manyCertificatesConfig(port, dir, PLAN.cpu.certificates), tls: true };
  if (PLAN.cpu.certificates > 0) cpuConfigs.push([`${PLAN.cpu.certificates} TLS certificates`, certificates, PLAN.cpu.certificateReloads, PLAN.cpu.certificateWarmup]);
  for (const [name, config, reloads, warmup] of runs('cpu') ? cpuConfigs : []) {
    log(`cpu per reload: ${name}, ${cpuModes.join(', ')} taking turns, ${reloads} reloads each (the supervisor's after ${warmup} not measured)`);
    result.cpu?.push(...(await cpuPerReload(cpuModes, name, config, reloads, warmup)));
    save();
  }
  for (const [name, backends, reloads] of runs('latency') ? PLAN.latency : []) {
    log(`latency: ${name}`);
    result.latency.push(...(await reloadLatency(name, backends, reloads)));
    save();
  }
  if (runs('footprint') && PLAN.footprintReloads > 0) {
    log(`footprint: ${PLAN.footprintReloads} reloads`);
    result.footprint = await supervisorFootprint(PLAN.footprintReloads);
    log('footprint: what each dependency costs at start');
    result.dependencies = await dependencyCosts(DAEMON_NODE_FLAGS);
    save();
  }
  process.stdout.write(`${toMarkdown(result)}\nWritten to ${stem ?? outDir}.{json,md,svg}\n`);
}

if (args.includes('--render')) {
  await main(); // measures nothing, starts nothing: nothing to clean up
} else {
  // Everything the bench starts inherits this mark, and only what carries it is ended (test/helpers/run-processes.ts).
  const runId = markRun('bench');
  let aborting = false;
  /**
   * Interrupted (Ctrl-C, SIGTERM, SIGHUP) or failed: end every process this run started — supervisors first
   * included, since they are detached and would respawn haproxy — remove the subjects' temp dirs, write the partial
   * result, exit non-zero.
   */
  const abort = (reason: string, code: number): void => {
    if (aborting) return; // a second Ctrl-C while cleaning up changes nothing
    aborting = true;
    const killed = endRun(runId);
    for (const dir of liveSubjectDirs) rmSync(dir, { recursive: true, force: true });
    saveResult?.({ reason, section });
    process.stderr.write(`[bench] ${reason}: ended ${killed.length} process(es) of this run${saveResult === undefined ? '' : `, partial results written to ${outDir}`}\n`);
    process.exit(code);
  };
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) process.on(signal, () => abort(signal, code));
  process.on('uncaughtException', (error) => {
    process.stderr.write(`${error.stack ?? String(error)}\n`);
    abort(`an error (${error.message})`, 1);
  });
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    abort(`an error (${error instanceof Error ? error.message : String(error)})`, 1);
  }
  const left = endRun(runId);
  if (left.length > 0) log(`ended ${left.length} process(es) the bench left running: ${left.join(', ')}`);
}
