import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { haproxyPids, killAll } from '../test/helpers/haproxy-processes.js';
import { toMarkdown, toSvg, type BenchResult } from './report.js';
import { crashUnderLoad, dependencyCosts, MODES, racingTriggers, reloadLatency, reloadUnderLoad, supervisorFootprint, type Scenario } from './sections.js';
import { DAEMON_NODE_FLAGS } from '../src/cli/commands/start.js';
import { BENCH_MARKER, manyCertificatesConfig } from './subjects.js';
import { cpuPerReload, type CpuConfig } from './cpu.js';
import { ensureAb } from './tools.js';

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
/** `--only load,racing,crash,latency,footprint`: just those sections (iterating on one figure); default all. */
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',')) : undefined;
const runs = (section: 'load' | 'racing' | 'crash' | 'latency' | 'footprint' | 'cpu'): boolean => only === undefined || only.has(section);

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

const PLAN = {
  full: {
    scenarios: matrix(10, { requests: 250_000, seconds: 30 }),
    settleMs: 5000,
    racing: { rounds: 5, perRound: 10 },
    crashKills: 8,
    latency: [
      ['small (1 frontend)', 0, 30],
      ['large (5 000 backends × 4 servers)', 5000, 30],
    ] as Array<[string, number, number]>,
    footprintReloads: 1000,
    cpu: { small: 40, certificates: 1000, certificateReloads: 20 },
  },
  quick: {
    scenarios: [
      { tool: 'ab', concurrency: 200, intervalMs: 50, keepAlive: false, requests: 40_000, seconds: 6 },
      { tool: 'ab', concurrency: 100, intervalMs: 200, keepAlive: false, requests: 10_000, seconds: 30, tls: true },
    ] as Scenario[],
    settleMs: 5000,
    racing: { rounds: 3, perRound: 10 },
    crashKills: 4,
    latency: [['small (1 frontend)', 0, 30]] as Array<[string, number, number]>,
    footprintReloads: 1000,
    cpu: { small: 20, certificates: 1000, certificateReloads: 8 },
  },
  smoke: {
    scenarios: [
      { tool: 'ab', concurrency: 20, intervalMs: 200, keepAlive: false, requests: 2000, seconds: 1 },
      { tool: 'probe', concurrency: 10, intervalMs: 200, keepAlive: false, requests: 2000, seconds: 1 },
    ] as Scenario[],
    settleMs: 500,
    racing: { rounds: 1, perRound: 3 },
    crashKills: 1,
    latency: [['small (1 frontend)', 0, 3]] as Array<[string, number, number]>,
    footprintReloads: 5,
    cpu: { small: 3, certificates: 0, certificateReloads: 0 },
  },
}[profile];

const modes = profile === 'smoke' ? (['none', 'init-x', 'supervisor-hup'] as const) : MODES;

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

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
  const result: BenchResult = {
    date: new Date().toISOString().slice(0, 10),
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      haproxy: execFileSync('haproxy', ['-v'], { encoding: 'utf8' }).split('\n')[0]?.replace('HAProxy version ', 'haproxy ').split(' - ')[0] ?? 'haproxy',
      kernel: os.release(),
    },
    command: `npm run bench${profile === 'full' ? '' : ` -- --${profile}`}`,
    load: [],
    racing: [],
    crash: [],
    latency: [],
    footprint: [],
    cpu: [],
  };
  // Saved after every section: a failure late in a long run keeps what was measured.
  const save = (): void => {
    mkdirSync(outDir, { recursive: true });
    const stem = path.join(outDir, `${result.date}${profile === 'full' ? '' : `-${profile}`}`);
    writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${stem}.md`, `${toMarkdown(result)}\n![failed requests per mode](${path.basename(stem)}.svg)\n`);
    writeFileSync(`${stem}.svg`, toSvg(result));
  };
  for (const scenario of runs('load') ? PLAN.scenarios : []) {
    for (const mode of modes) {
      log(`load (${scenario.tool}): ${mode}, c=${scenario.concurrency}, every ${scenario.intervalMs} ms${scenario.keepAlive ? ', keep-alive' : ''}`);
      result.load.push(await reloadUnderLoad(mode, scenario, PLAN.settleMs));
    }
    save();
  }
  for (const mode of runs('racing') ? (['init-x', 'supervisor-cli'] as const) : []) {
    log(`racing: ${mode}`);
    result.racing.push(await racingTriggers(mode, PLAN.racing.rounds, PLAN.racing.perRound, PLAN.settleMs));
  }
  save();
  const crashModes = profile === 'smoke' ? (['supervisor-hup'] as const) : (['init-x', 'master-worker', 'supervisor-hup'] as const);
  for (const mode of runs('crash') ? crashModes : []) {
    log(`crash under load: ${mode}, ${PLAN.crashKills} kills`);
    result.crash?.push(await crashUnderLoad(mode, PLAN.crashKills));
  }
  save();
  const cpuModes = profile === 'smoke' ? (['init-x', 'supervisor-hup'] as const) : (['init-x', 'master-worker', 'supervisor-hup', 'supervisor-cli'] as const);
  const cpuConfigs: Array<[string, CpuConfig | undefined, number]> = [['small (1 frontend)', undefined, PLAN.cpu.small]];
  const certificates = { text: (port: number, dir: string) => manyCertificatesConfig(port, dir, PLAN.cpu.certificates), tls: true };
  if (PLAN.cpu.certificates > 0) cpuConfigs.push([`${PLAN.cpu.certificates} TLS certificates`, certificates, PLAN.cpu.certificateReloads]);
  for (const [name, config, reloads] of runs('cpu') ? cpuConfigs : []) {
    for (const mode of cpuModes) {
      log(`cpu per reload: ${name}, ${mode}, ${reloads} reloads`);
      result.cpu?.push(await cpuPerReload(mode, name, config, reloads));
    }
    save();
  }
  for (const [name, backends, reloads] of runs('latency') ? PLAN.latency : []) {
    log(`latency: ${name}`);
    result.latency.push(...(await reloadLatency(name, backends, reloads)));
    save();
  }
  if (runs('footprint')) {
    log(`footprint: ${PLAN.footprintReloads} reloads`);
    result.footprint = await supervisorFootprint(PLAN.footprintReloads);
    log('footprint: what each dependency costs at start');
    result.dependencies = await dependencyCosts(DAEMON_NODE_FLAGS);
    save();
  }
  process.stdout.write(`${toMarkdown(result)}\nWritten to ${outDir}\n`);
}

if (args.includes('--render')) {
  await main(); // measures nothing, starts nothing: nothing to clean up
} else {
  try {
    await main();
  } finally {
    const left = killAll(haproxyPids(BENCH_MARKER));
    if (left > 0) log(`killed ${left} haproxy process(es) left by the bench`);
  }
}
