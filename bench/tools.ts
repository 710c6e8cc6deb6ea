import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Probe } from '../test/helpers/probe.js';
import { H2Load } from './h2-client.js';
import { summarize } from './stats.js';
import { BENCH_MARKER } from './subjects.js';

/** Makes sure `ab` (apache2-utils) and haproxy are installed: scripts/ensure-packages.sh (apt-get as root). */
export function ensureAb(): void {
  try {
    execFileSync('ab', ['-V'], { stdio: 'ignore' });
    return;
  } catch {
    // missing: the script installs it as root, or says how
  }
  execFileSync('bash', [new URL('../../scripts/ensure-packages.sh', import.meta.url).pathname], { stdio: 'inherit' });
}

/** What a load tool measured. `aborted`: ab gave up (it stops after 10 connect failures, as seed 001 saw). */
export type LoadReport = {
  tool: 'ab' | 'probe' | 'h2';
  requests: number;
  failed: number;
  failures: Record<string, number>;
  meanMs: number;
  p95Ms: number;
  /** Absent in results of runs before it was measured. */
  p99Ms?: number;
  /** Successful requests per second over the run. */
  rps?: number;
  aborted: boolean;
  abError?: string;
};

const number = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0);

/**
 * The percentile `percent` from ab's CSV (`-e`: one line per percent, in ms with three decimals), to 0.1 ms; undefined
 * when the file lacks it (ab aborted before writing it). ab's report table rounds to whole ms, which at a p95 of
 * 10 ms decides a comparison by rounding.
 */
function csvPercentile(csv: string | undefined, percent: number): number | undefined {
  const value = csv === undefined ? undefined : new RegExp(`^${percent},([\\d.]+)$`, 'm').exec(csv)?.[1];
  return value === undefined ? undefined : Math.round(Number(value) * 10) / 10;
}

/** Parses ab's report (also a partial one when it aborted), and its percentiles CSV when there is one. */
export function parseAb(output: string, exitCode: number, csv?: string): LoadReport {
  const breakdown = /\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\)/.exec(output);
  const non2xx = number(output, /Non-2xx responses:\s+(\d+)/);
  const failures = {
    connect: Number(breakdown?.[1] ?? 0),
    receive: Number(breakdown?.[2] ?? 0),
    length: Number(breakdown?.[3] ?? 0),
    exceptions: Number(breakdown?.[4] ?? 0),
    non2xx,
  };
  const complete = number(output, /Complete requests:\s+(\d+)/);
  const aborted = exitCode !== 0 || complete === 0;
  const abError = /^(apr_\S+.*|.*Test aborted.*)$/m.exec(output)?.[1];
  return {
    tool: 'ab',
    requests: complete,
    // ab's own total (its breakdown columns overlap), plus non-2xx answers; an aborted run counts at least one.
    failed: Math.max(aborted ? 1 : 0, number(output, /Failed requests:\s+(\d+)/) + non2xx),
    failures,
    meanMs: number(output, /Time per request:\s+([\d.]+) \[ms\] \(mean\)/),
    p95Ms: csvPercentile(csv, 95) ?? number(output, /^\s+95%\s+(\d+)/m),
    p99Ms: csvPercentile(csv, 99) ?? number(output, /^\s+99%\s+(\d+)/m),
    rps: number(output, /Requests per second:\s+([\d.]+)/),
    aborted,
    ...(abError === undefined ? {} : { abError }),
  };
}

/** Runs ab against 127.0.0.1:port, bounded by requests and seconds. */
export async function runAb(port: number, options: { concurrency: number; requests: number; seconds: number; keepAlive: boolean; tls?: boolean }): Promise<LoadReport> {
  // -t before -n: -t alone would reset -n to 50000.
  const args = ['-l', '-r', '-t', String(options.seconds), '-n', String(options.requests), '-c', String(options.concurrency), '-s', '10'];
  if (options.keepAlive) args.push('-k');
  // Seed 001's command: ab -r -c … -n … -f TLS1.2 -l https://…/
  if (options.tls === true) args.push('-f', 'TLS1.2', `https://127.0.0.1:${port}/`);
  else args.push(`http://127.0.0.1:${port}/`);
  const csv = path.join(os.tmpdir(), `${BENCH_MARKER}ab-${randomUUID()}.csv`);
  args.unshift('-e', csv);
  try {
    const result = await execa('ab', args, { reject: false, all: true, timeout: (options.seconds + 30) * 1000 });
    return parseAb(String(result.all ?? ''), result.exitCode ?? 1, existsSync(csv) ? readFileSync(csv, 'utf8') : undefined);
  } finally {
    rmSync(csv, { force: true });
  }
}

/**
 * The per-request probe (test/helpers/probe.ts): a new connection per request, no retries, every failure counted
 * by kind. Unlike ab it never gives up, so hard restarts and legacy reloads get a full count.
 */
export async function runProbe(port: number, options: { concurrency: number; requests: number; seconds: number }): Promise<LoadReport> {
  const started = performance.now();
  const probe = new Probe(port, { concurrency: options.concurrency, maxRequests: options.requests, maxMs: options.seconds * 1000 }).start();
  await probe.done(); // bounded by requests and time
  const report = await probe.stop();
  const latency = summarize(report.latenciesMs);
  const mean = report.latenciesMs.reduce((sum, value) => sum + value, 0) / Math.max(1, report.latenciesMs.length);
  const rps = Math.round((report.ok / ((performance.now() - started) / 1000)) * 10) / 10;
  return { tool: 'probe', requests: report.requests, failed: report.failed, failures: report.failures, meanMs: Math.round(mean * 100) / 100, p95Ms: latency.p95, p99Ms: latency.p99, rps, aborted: false };
}

/** The browser-like HTTP/2 load (h2-client.ts) over TLS for `seconds`. */
export async function runH2(port: number, options: { concurrency: number; seconds: number }): Promise<LoadReport> {
  const started = performance.now();
  const report = await new H2Load(port, { sessions: options.concurrency, streams: 5, seconds: options.seconds }).run();
  const rps = Math.round((report.ok / ((performance.now() - started) / 1000)) * 10) / 10;
  const failures = { ...report.failures, ...(report.retried > 0 ? { 'retried once (not failed)': report.retried } : {}) };
  return { tool: 'h2', requests: report.requests, failed: report.failed, failures, meanMs: report.meanMs, p95Ms: report.latencyMs.p95, p99Ms: report.latencyMs.p99, rps, aborted: false };
}
