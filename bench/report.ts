import { existsSync } from 'node:fs';
import { MODE_LABELS } from './subjects.js';
import { pairedDifference } from './stats.js';
import type { CpuRow } from './cpu.js';
import type { HungRow } from './hung.js';
import type { VerifyRow } from './verify.js';
import { TIMELINE_BIN_MS, type TimelineRow } from './timeline.js';
import type { CrashRow, DependencyRow, FootprintRow, LatencyRow, LoadRow, RaceRow } from './sections.js';

/** Everything one bench run measured. */
export type BenchResult = {
  date: string;
  machine: { cpus: number; memoryGiB: number; node: string; haproxy: string; kernel: string; /** What CPU per reload was read from (absent before it was recorded). */ cpuCounter?: string };
  command: string;
  load: LoadRow[];
  racing: RaceRow[];
  crash?: CrashRow[];
  latency: LatencyRow[];
  footprint: FootprintRow[];
  dependencies?: DependencyRow[];
  cpu?: CpuRow[];
  hung?: HungRow[];
  verify?: VerifyRow[];
  /** Reload under load, request by request (timeline.ts), over HTTP and over TLS; absent when not run. */
  timeline?: Timeline;
  timelineTls?: Timeline;
  /** How long the whole run took. */
  durationS?: number;
  /** Set when the run was interrupted (a signal or an error): what stopped it, and in which section. */
  partial?: { reason: string; section: string };
};

/** What each mode is in the crash table (nothing is reloaded there). */
const CRASH_LABELS: Partial<Record<LoadRow['mode'], string>> = {
  'init-x': 'haproxy -D (init script: nothing restarts it)',
  'master-worker': 'master-worker (-W)',
  'supervisor-hup': 'haproxy-supervisor',
};

const TOOLS: Record<LoadRow['tool'], string> = { ab: 'ab', probe: 'per-request probe', h2: 'HTTP/2 over TLS, browser-like client (20 sessions × 5 streams, new session after GOAWAY)' };

const scenarioName = (row: LoadRow): string => {
  const tool = `${TOOLS[row.tool]}${row.tls === true && row.tool !== 'h2' ? ' over TLS (-f TLS1.2)' : ''}${row.tool === 'h2' ? '' : `, c=${row.concurrency}`}`;
  const connections = row.tool === 'h2' ? '' : `, ${row.keepAlive ? 'keep-alive' : 'new connection per request'}`;
  const option = row.idleClose === undefined ? '' : row.idleClose ? ', with `option idle-close-on-response`' : ', without `option idle-close-on-response`';
  return `${tool}, every ${row.intervalMs} ms${row.equalCounts === true ? ' (equal reload counts)' : ''}${connections}${option}`;
};

/** Seed 001's published figures (10k requests, a reload every 0.2 s, over TLS), shown beside our TLS rows. */
const SEED_001: Record<number, string> = {
  100: 'Seed 001 (10k requests, 100 users, TLS): no reloads 0 failed, hard restart 8 305, legacy reload 1, reload-socket 0.',
  200: 'Seed 001 (10k requests, 200 users, TLS): legacy reload 21 failed, reload-socket 0.',
};

function failureKinds(row: LoadRow): string {
  const kinds = Object.entries(row.failures).filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`);
  if (row.aborted) kinds.push(`ab aborted${row.abError === undefined ? '' : `: ${row.abError}`}`);
  return kinds.join(', ') || '-';
}

/** One run of the timeline section (timeline.ts). */
type Timeline = { seconds: number; intervalMs: number; rows: TimelineRow[] };

/** The timeline section's passes this result has: the protocol, and what its heading adds. */
function timelinePasses(result: BenchResult): Array<{ protocol: 'HTTP' | 'TLS'; heading: string; timeline: Timeline }> {
  const passes = [
    { protocol: 'HTTP' as const, heading: '', timeline: result.timeline },
    { protocol: 'TLS' as const, heading: ' over TLS (TLS 1.2, a full handshake per request)', timeline: result.timelineTls },
  ];
  return passes.flatMap(({ timeline, ...pass }) => (timeline === undefined ? [] : [{ ...pass, timeline }]));
}

/** One target of the issues, as this run measured it: `met` is undefined when the run did not measure it. */
export type TargetRow = { target: string; measured: string; met: boolean | undefined };

const SUPERVISOR_MODES = new Set<LoadRow['mode']>(['supervisor-cli', 'supervisor-hup']);

/** The targets beside the anchors measured in the same run (raw haproxy, `node -e ''`, seed 001's figures). */
export function targets(result: BenchResult): TargetRow[] {
  const rows: TargetRow[] = [];
  const small = (key: LatencyRow['key']): number | undefined => result.latency.find((row) => row.key === key && row.config.startsWith('small'))?.ms.median;
  const [raw, daemon, cli, node] = [small('raw'), small('daemon'), small('cli'), small('node')];
  if (raw !== undefined && daemon !== undefined) {
    const ratio = daemon / raw;
    rows.push({ target: 'daemon-side reload ≤ 1.1× raw `haproxy -D -x -sf` (small config, medians)', measured: `${daemon} vs ${raw} ms (${ratio.toFixed(2)}×)`, met: ratio <= 1.1 });
  }
  if (daemon !== undefined && cli !== undefined && node !== undefined) {
    const bound = node + 30 + daemon;
    rows.push({ target: "CLI `reload` round trip ≤ `node -e ''` + 30 ms + daemon-side reload", measured: `${cli} ms vs ${node} + 30 + ${daemon} = ${Math.round(bound * 10) / 10} ms`, met: cli <= bound });
  }
  const during = result.footprint.filter((row) => row.phase === 'reloads');
  const end = during.at(-1);
  const hundred = during.find((row) => row.reloads === 100 && row !== end);
  const [start, drained] = [result.footprint.find((row) => row.phase === 'start'), result.footprint.find((row) => row.phase === 'drained')];
  if (end !== undefined) rows.push({ target: `RSS ≤ 60 MiB ${end.when}, watcher on`, measured: `${end.rssMiB} MiB (${start?.rssMiB ?? '?'} after start)`, met: end.rssMiB <= 60 });
  if (hundred !== undefined && end !== undefined) {
    const growth = (end.rssMiB / hundred.rssMiB - 1) * 100;
    rows.push({ target: `RSS growth ≤ 10 % from 100 reloads to ${end.when.replace('after ', '')}`, measured: `${hundred.rssMiB} → ${end.rssMiB} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %)`, met: growth <= 10 });
  }
  if (start !== undefined && drained !== undefined) rows.push({ target: 'no fd growth (after start vs once the old generations drained)', measured: `${start.fds} → ${drained.fds}`, met: drained.fds <= start.fds });
  for (const row of result.load.filter((candidate) => candidate.tls === true && SUPERVISOR_MODES.has(candidate.mode))) {
    rows.push({
      target: `0 failed over TLS, c=${row.concurrency}, a reload every ${row.intervalMs} ms (seed 001's reload-socket: 0)`,
      measured: `${MODE_LABELS[row.mode]}: ${row.aborted ? 'ab aborted' : `${row.failed} failed of ${row.requests}`}, ${row.reloads} reloads`,
      met: !row.aborted && row.failed === 0,
    });
  }
  for (const row of result.load.filter((candidate) => candidate.tls !== true && !candidate.keepAlive && candidate.concurrency === 200 && candidate.intervalMs === 50 && SUPERVISOR_MODES.has(candidate.mode))) {
    rows.push({ target: `0 failed at c=200, a reload every 50 ms (${row.tool})`, measured: `${MODE_LABELS[row.mode]}: ${row.aborted ? 'ab aborted' : `${row.failed} failed of ${row.requests}`}, ${row.reloads} reloads`, met: !row.aborted && row.failed === 0 });
  }
  rows.push(...liveTrafficTargets(result));
  return rows;
}

/** `+1.2 ± 2.0`: the mean of b − a over the rounds both measured and its 95 % half-width ('' under two pairs), and how many pairs. */
function versus(a: number[], b: number[], digits = 1): { text: string; pairs: number } {
  const { mean, halfWidth, n } = pairedDifference(a, b);
  return { text: n < 2 ? '' : `${mean >= 0 ? '+' : '−'}${Math.abs(mean).toFixed(digits)} ± ${halfWidth.toFixed(digits)}`, pairs: n };
}

/** Issue 19's targets: a reload costs no more than haproxy's own ways, measured in the same run. */
function liveTrafficTargets(result: BenchResult): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const config of [...new Set((result.cpu ?? []).map((row) => row.config))]) {
    const of = (mode: LoadRow['mode']): CpuRow | undefined => result.cpu?.find((row) => row.config === config && row.mode === mode);
    const [init, supervisor] = [of('init-x'), of('supervisor-hup')];
    if (init === undefined || supervisor === undefined) continue;
    const difference = versus(init.cpuMs ?? [], supervisor.cpuMs ?? []);
    rows.push({ target: `CPU per reload ≤ the init script's (${config}, SIGHUP)`, measured: `${supervisor.cpuMsPerReload} vs ${init.cpuMsPerReload} ms${difference.text === '' ? '' : ` (difference ${difference.text} ms, 95 % CI over ${difference.pairs} pairs)`}`, met: supervisor.cpuMsPerReload <= init.cpuMsPerReload });
    if (config.includes('certificates')) {
      const ratio = supervisor.wallMs.median / init.wallMs.median;
      rows.push({ target: `reload ≤ 1.1× raw \`haproxy -D -x -sf\` (${config}, medians, until the old process exited)`, measured: `${supervisor.wallMs.median} vs ${init.wallMs.median} ms (${ratio.toFixed(2)}×)`, met: ratio <= 1.1 });
    }
  }
  const equal = result.load.filter((row) => row.equalCounts === true && row.tool === 'ab');
  for (const tls of [false, true]) {
    const master = equal.find((row) => row.mode === 'master-worker' && (row.tls === true) === tls);
    const supervisor = equal.find((row) => row.mode === 'supervisor-hup' && (row.tls === true) === tls);
    if (master === undefined || supervisor === undefined) continue;
    rows.push({
      target: `live p95 during reloads ≤ master-worker's at equal reload counts (${tls ? 'TLS' : 'HTTP'})`,
      measured: `${supervisor.p95Ms} vs ${master.p95Ms} ms (${supervisor.reloads} and ${master.reloads} reloads)`,
      met: supervisor.p95Ms <= master.p95Ms,
    });
  }
  for (const { protocol, timeline } of timelinePasses(result)) {
    const [byRequestMaster, byRequestSupervisor] = [timeline.rows.find((row) => row.mode === 'master-worker'), timeline.rows.find((row) => row.mode === 'supervisor-hup')];
    if (byRequestMaster === undefined || byRequestSupervisor === undefined) continue;
    const perTurn = versus(byRequestMaster.turnP95s ?? [], byRequestSupervisor.turnP95s ?? [], 2);
    rows.push({
      target: `live p95 during reloads ≤ master-worker's at equal reload counts (${protocol}, request by request)`,
      measured: `${byRequestSupervisor.p95Ms} vs ${byRequestMaster.p95Ms} ms (${byRequestSupervisor.reloads} and ${byRequestMaster.reloads} reloads)${perTurn.text === '' ? '' : `; per turn ${perTurn.text} ms (95 % CI over ${perTurn.pairs} paired turns)`}`,
      met: byRequestSupervisor.p95Ms <= byRequestMaster.p95Ms,
    });
  }
  const keepAlive = result.load.find((row) => row.keepAlive && row.tool === 'ab' && row.idleClose === true && row.mode === 'supervisor-hup');
  if (keepAlive !== undefined) rows.push({ target: 'keep-alive clients (ab -k, a reload every 50 ms), recommended config: 0 failed', measured: `${keepAlive.failed} failed of ${keepAlive.requests}, ${keepAlive.reloads} reloads`, met: keepAlive.failed === 0 && !keepAlive.aborted });
  const h2 = result.load.filter((row) => row.tool === 'h2' && row.equalCounts === true);
  const [h2Master, h2Supervisor] = [h2.find((row) => row.mode === 'master-worker'), h2.find((row) => row.mode === 'supervisor-hup')];
  if (h2Supervisor !== undefined) rows.push({ target: 'HTTP/2 over TLS during reloads: 0 failed', measured: `${h2Supervisor.failed} failed of ${h2Supervisor.requests}`, met: h2Supervisor.failed === 0 });
  if (h2Master?.rps !== undefined && h2Supervisor?.rps !== undefined) {
    const ratio = h2Supervisor.rps / h2Master.rps;
    rows.push({ target: 'HTTP/2 throughput during reloads ≥ 0.95× master-worker\'s (equal reload counts)', measured: `${h2Supervisor.rps} vs ${h2Master.rps} req/s (${ratio.toFixed(2)}×)`, met: ratio >= 0.95 });
  }
  const crash = result.crash?.find((row) => row.mode === 'supervisor-hup');
  if (crash !== undefined) rows.push({ target: `kill -9 of the active generation under load (c=50): 0 refused (${crash.kills} kills)`, measured: `${crash.refusedPerKill} refused, ${crash.resetPerKill} reset per kill`, met: crash.refusedPerKill === 0 && crash.recovered === crash.kills });
  const hung = result.hung?.find((row) => row.mode === 'supervisor-hup');
  if (hung !== undefined) rows.push({ target: 'SIGSTOP of the active generation: 0 failed once the replacement serves', measured: hung.recovered ? `${hung.failedAfter} of ${hung.requestsAfter}, serving again after ${hung.recoveryMs} ms` : 'never answered again', met: hung.recovered && hung.failedAfter === 0 });
  const broken = result.verify?.find((row) => row.mode === 'supervisor-cli');
  if (broken !== undefined) rows.push({ target: 'a valid config that breaks its backend is rolled back; 0 failed after the roll back', measured: `${broken.outcome}; ${broken.failed} failed in the window, ${broken.failedAfterReturn} after`, met: broken.outcome.startsWith('rolled back') && broken.failedAfterReturn === 0 });
  // A whole quick run only: `--only` runs a part of it.
  if (result.durationS !== undefined && result.command.includes('--quick') && !result.command.includes('--only')) rows.push({ target: '`npm run bench -- --quick` ≤ 3 minutes', measured: `${Math.round(result.durationS)} s`, met: result.durationS <= 180 });
  return rows;
}

/** The results as markdown tables. */
export function toMarkdown(result: BenchResult): string {
  const lines: string[] = [];
  lines.push(`# haproxy-supervisor benchmark, ${result.date}`, '');
  lines.push(`${result.machine.cpus} CPUs, ${result.machine.memoryGiB} GiB, Node ${result.machine.node}, ${result.machine.haproxy}, Linux ${result.machine.kernel}. Command: \`${result.command}\`.`, '');
  if (result.partial !== undefined) lines.push(`**Partial run:** stopped by ${result.partial.reason} during ${result.partial.section}; only what was measured before is here.`, '');
  const goals = targets(result);
  if (goals.length > 0) {
    lines.push('## Targets', '', '| target | measured in this run | |', '|---|---|---|');
    for (const goal of goals) lines.push(`| ${goal.target} | ${goal.measured} | ${goal.met === undefined ? '-' : goal.met ? 'met' : '**missed**'} |`);
    lines.push('');
  }
  const scenarios = [...new Set(result.load.map(scenarioName))];
  for (const scenario of scenarios) {
    lines.push(`## Reload under load: ${scenario}`, '');
    lines.push('| mode | requests | failed | failures by kind | reloads done | mean ms | p95 ms | p99 ms | req/s | orphans after the load |', '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|');
    for (const row of result.load.filter((candidate) => scenarioName(candidate) === scenario)) {
      const cells = [MODE_LABELS[row.mode], row.requests, row.aborted ? 'aborted' : row.failed, failureKinds(row), row.mode === 'none' ? '-' : row.reloads, row.meanMs, row.p95Ms, row.p99Ms ?? '-', row.rps ?? '-', row.orphans];
      lines.push(`| ${cells.join(' | ')} |`);
    }
    const first = result.load.find((candidate) => scenarioName(candidate) === scenario);
    if (first?.tls === true && SEED_001[first.concurrency] !== undefined) lines.push('', SEED_001[first.concurrency] ?? '');
    lines.push('');
  }
  for (const { heading, timeline } of timelinePasses(result)) {
    const { seconds, intervalMs, rows } = timeline;
    const bins = rows[0]?.bins.map((_, index) => `${index * TIMELINE_BIN_MS}–${(index + 1) * TIMELINE_BIN_MS} ms`) ?? [];
    lines.push(`## Reload under load, request by request${heading} (c=100, a new connection per request, a reload every ${intervalMs} ms; ${rows[0]?.turns ?? 0} turns of ${seconds} s per mode)`, '');
    lines.push(`p95 in ms of the requests started in each window after a reload was asked for, and from ${bins.length * TIMELINE_BIN_MS} ms on (steady). Excess: the latency above the steady median, summed over the requests of the first 200 ms, per reload (for no reloads, at the same times: the floor).`, '');
    lines.push(`| mode | reloads | requests | failed | p95 ms, all | ${bins.join(' | ')} | steady | excess ms per reload |`, `|---|---:|---:|---:|---:|${bins.map(() => '---:|').join('')}---:|---:|`);
    for (const row of rows) lines.push(`| ${MODE_LABELS[row.mode]} | ${row.mode === 'none' ? '-' : row.reloads} | ${row.requests} | ${row.failed} | ${row.p95Ms} | ${row.bins.join(' | ')} | ${row.steadyP95} | ${row.excessMsPerReload} |`);
    lines.push('');
  }
  if (result.racing.length > 0) {
    lines.push('## Racing reload triggers', '', '| mode | rounds × concurrent triggers | haproxy alive when idle | orphans |', '|---|---|---:|---:|');
    for (const row of result.racing) lines.push(`| ${MODE_LABELS[row.mode]} | ${row.rounds} × ${row.perRound} | ${row.alive} | ${row.orphans} |`);
    lines.push('');
  }
  if ((result.crash ?? []).length > 0) {
    lines.push('## Crash under load (kill -9 of the serving haproxy after 1.5 s, per-request probe c=50)', '');
    lines.push('| mode | kills | recovered | recovery median ms | p95 ms | refused per kill | reset per kill | other per kill |', '|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const row of result.crash ?? []) {
      const recovery = row.recovered === 0 ? 'never' : String(row.recoveryMs.median);
      lines.push(`| ${CRASH_LABELS[row.mode] ?? MODE_LABELS[row.mode]} | ${row.kills} | ${row.recovered} | ${recovery} | ${row.recovered === 0 ? '-' : row.recoveryMs.p95} | ${row.refusedPerKill} | ${row.resetPerKill} | ${row.otherPerKill} |`);
    }
    lines.push('');
  }
  if ((result.hung ?? []).length > 0) {
    lines.push('## Hung under load (SIGSTOP of the serving haproxy after 1.5 s, per-request probe c=50)', '');
    lines.push('| mode | answers again after ms | failed while hung, by kind | failed of the requests started once it answered |', '|---|---:|---|---:|');
    for (const row of result.hung ?? []) {
      const kinds = Object.entries(row.failedWhileHung).map(([kind, count]) => `${kind} ${count}`).join(', ') || '-';
      lines.push(`| ${CRASH_LABELS[row.mode] ?? MODE_LABELS[row.mode]} | ${row.recovered ? row.recoveryMs : 'never'} | ${kinds} | ${row.recovered ? `${row.failedAfter} of ${row.requestsAfter}` : '-'} |`);
    }
    lines.push('');
  }
  if ((result.verify ?? []).length > 0) {
    lines.push('## A reload that breaks traffic (its backend moved to a closed port, `check inter 200ms`; per-request probe c=50, the 3 s after the reload)', '');
    lines.push('| mode | the reload | requests | failed | by kind | failed after the reload returned |', '|---|---|---:|---:|---|---:|');
    for (const row of result.verify ?? []) {
      const kinds = Object.entries(row.failures).map(([kind, count]) => `${kind} ${count}`).join(', ') || '-';
      lines.push(`| ${MODE_LABELS[row.mode]} | ${row.outcome} | ${row.requests} | ${row.failed} | ${kinds} | ${row.failedAfterReturn} |`);
    }
    lines.push('');
  }
  if ((result.cpu ?? []).length > 0) {
    lines.push('## CPU per reload (every process on the machine, no traffic; each reload waited for until the old process exited)', '');
    lines.push('| config | mode | reloads not measured, then measured | CPU ms per reload | vs the init script, same rounds (95 % CI) | wall ms median | p95 |', '|---|---|---:|---:|---:|---:|---:|');
    for (const row of result.cpu ?? []) {
      const init = result.cpu?.find((other) => other.config === row.config && other.mode === 'init-x');
      const difference = init === undefined || init === row ? '' : versus(init.cpuMs ?? [], row.cpuMs ?? []).text;
      lines.push(`| ${row.config} | ${MODE_LABELS[row.mode]} | ${row.warmup ?? 1}, ${row.reloads} | ${row.cpuMsPerReload} | ${difference} | ${row.wallMs.median} | ${row.wallMs.p95} |`);
    }
    const counter = result.machine.cpuCounter === undefined ? '' : ` CPU time read from ${result.machine.cpuCounter}.`;
    lines.push('', `Each round reloads every mode once, in turn; a mode's difference is its CPU minus the init script's over the same rounds, with the 95 % confidence interval of that mean (machine noise shows as its width). The reloads not measured come first, in the same turns: V8 compiles the supervisor's reload path over its first few dozen reloads after a start, and a mode that starts a new haproxy per reload only warms its caches.${counter}`, '');
  }
  if (result.latency.length > 0) {
    lines.push('## Reload latency (ms)', '', '| config | measured | n | min | median | p95 |', '|---|---|---:|---:|---:|---:|');
    for (const row of result.latency) lines.push(`| ${row.config} | ${row.what} | ${row.ms.n} | ${row.ms.min} | ${row.ms.median} | ${row.ms.p95} |`);
    lines.push('');
  }
  if (result.footprint.length > 0) {
    lines.push('## Supervisor footprint', '', '| when | RSS MiB | open fds | haproxy alive |', '|---|---:|---:|---:|');
    for (const row of result.footprint) lines.push(`| ${row.when} | ${row.rssMiB} | ${row.fds} | ${row.liveGenerations} |`);
    lines.push('');
  }
  if ((result.dependencies ?? []).length > 0) {
    lines.push('## What each dependency costs at start (a fresh node with the daemon\'s flags, median of 3, over bare node)', '', '| module | loaded | RSS MiB | heap MiB |', '|---|---|---:|---:|');
    const sign = (row: DependencyRow): string => (row.baseline === true ? '' : '+');
    for (const row of result.dependencies ?? []) lines.push(`| ${row.module} | ${row.when} | ${sign(row)}${row.rssMiB} | ${sign(row)}${row.heapMiB} |`);
    lines.push('');
  }
  return lines.join('\n');
}

/** A bar chart of failed requests per mode, one group per scenario (SVG, no dependencies). */
export function toSvg(result: BenchResult): string {
  const scenarios = [...new Set(result.load.map(scenarioName))];
  const modes = [...new Set(result.load.map((row) => row.mode))];
  const max = Math.max(1, ...result.load.filter((row) => !row.aborted).map((row) => row.failed));
  const scale = (value: number): number => (value === 0 ? 0 : 4 + (Math.log10(value + 1) / Math.log10(max + 1)) * 196);
  const rowHeight = 16;
  const groupHeight = modes.length * rowHeight + 30;
  const height = 40 + scenarios.length * groupHeight;
  const barX = 380;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="820" height="${height}" font-family="sans-serif" font-size="12">`];
  parts.push(`<text x="10" y="20" font-size="14" font-weight="bold">Failed requests per mode (log scale) — ${result.date}</text>`);
  scenarios.forEach((scenario, group) => {
    const top = 40 + group * groupHeight;
    parts.push(`<text x="10" y="${top + 12}" font-weight="bold">${scenario}</text>`);
    modes.forEach((mode, index) => {
      const row = result.load.find((candidate) => candidate.mode === mode && scenarioName(candidate) === scenario);
      if (row === undefined) return;
      const y = top + 20 + index * rowHeight;
      parts.push(`<text x="10" y="${y + 11}">${MODE_LABELS[mode]}</text>`);
      if (row.aborted) {
        // ab gave up after 10 connect failures: the count is unknown (the probe rows have it).
        parts.push(`<rect x="${barX}" y="${y}" width="200" height="12" fill="#b0b0b0"/>`);
        parts.push(`<text x="${barX + 206}" y="${y + 11}">ab aborted: count unknown</text>`);
        return;
      }
      const width = scale(row.failed);
      parts.push(`<rect x="${barX}" y="${y}" width="${width}" height="12" fill="${row.failed === 0 ? '#2a9d38' : '#d1495b'}"/>`);
      parts.push(`<text x="${barX + 6 + width}" y="${y + 11}">${row.failed}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Where a run's results go: `base`, or `base-2`, `base-3`… , the first whose result files do not exist yet. */
export function freeStem(base: string): string {
  let stem = base;
  for (let index = 2; ['.json', '.md', '.svg'].some((ext) => existsSync(`${stem}${ext}`)); index++) stem = `${base}-${index}`;
  return stem;
}
