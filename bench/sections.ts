import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { sendRequest } from '../src/control/client.js';
import { freePort } from '../test/helpers/os-probes.js';
import { summarize, type Summary } from './stats.js';
import { runAb, runProbe, type LoadReport } from './tools.js';
import { CLI, largeConfig, MODES, Subject, type Mode } from './subjects.js';


/** One load scenario: clients, reload interval, keep-alive, and the budget in requests and seconds. */
export type Scenario = { tool: 'ab' | 'probe'; concurrency: number; intervalMs: number; keepAlive: boolean; requests: number; seconds: number };

export type LoadRow = Scenario & LoadReport & { mode: Mode; triggers: number; reloads: number; orphans: number };

/** Reload under load: ab or the probe runs while the mode reloads every `intervalMs` (trigger, wait, sleep). */
export async function reloadUnderLoad(mode: Mode, scenario: Scenario, settleMs: number): Promise<LoadRow> {
  const subject = new Subject(mode, await freePort());
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

export type LatencyRow = { config: string; what: string; ms: Summary };

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
    rows.push({ config: configName, what: 'raw haproxy -D -x -sf (command returns)', ms: summarize(times) });
    const check: number[] = [];
    for (let index = 0; index < Math.min(reloads, 10); index++) {
      const started = performance.now();
      await execa('haproxy', ['-c', '-f', raw.config], { reject: false });
      check.push(performance.now() - started);
    }
    rows.push({ config: configName, what: 'raw haproxy -c', ms: summarize(check) });
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
      const result = await execa('node', [CLI, 'reload', '--json', '--run-dir', supervised.runDir], { reject: false });
      cli.push(performance.now() - started);
      const parsed = JSON.parse(String(result.stdout)) as { durationMs: number; timings: { prepareMs?: number; checkMs?: number; readyMs?: number } };
      daemon.push(parsed.durationMs);
      prepareMs.push(parsed.timings.prepareMs ?? 0);
      checkMs.push(parsed.timings.checkMs ?? 0);
      readyMs.push(parsed.timings.readyMs ?? 0);
    }
    rows.push({ config: configName, what: 'supervisor daemon-side (request → new generation ready)', ms: summarize(daemon) });
    rows.push({ config: configName, what: '… of which reading the config (then, in parallel:)', ms: summarize(prepareMs) });
    rows.push({ config: configName, what: '… of which haproxy -c', ms: summarize(checkMs) });
    rows.push({ config: configName, what: '… of which spawn → ready', ms: summarize(readyMs) });
    rows.push({ config: configName, what: 'supervisor CLI end to end (`reload` command)', ms: summarize(cli) });
  } finally {
    await supervised.stop();
  }
  return rows;
}

export type FootprintRow = { when: string; rssMiB: number; fds: number; liveGenerations: number };

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
    rows.push({ when: 'after start', ...footprint(pid), liveGenerations: subject.haproxyCount() });
    for (let index = 0; index < reloads; index++) await sendRequest(subject.runDir, { cmd: 'reload', mode: 'reload' });
    rows.push({ when: `after ${reloads} reloads`, ...footprint(pid), liveGenerations: subject.haproxyCount() });
    const deadline = Date.now() + 30_000;
    while (subject.haproxyCount() > 1 && Date.now() < deadline) await sleep(100);
    await sleep(1000);
    rows.push({ when: 'after they drained', ...footprint(pid), liveGenerations: subject.haproxyCount() });
  } finally {
    await subject.stop();
  }
  return rows;
}

export { MODES };
