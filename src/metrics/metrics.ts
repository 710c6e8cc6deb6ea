import client from 'prom-client';
import type { ReloadResult, Status } from '../control/types.js';

/** Where the gauges read from at scrape time. */
export type MetricsSource = { status(): Status };

const PREFIX = 'haproxy_supervisor_';

/** prom-client default metrics left out (issue 22): sum(nodejs_active_handles) etc. give the same numbers. */
export const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/**
 * The supervisor's Prometheus metrics (prom-client). Counters move when things happen (`reloaded`, `escalated`);
 * gauges are read from the status at scrape time. Labels are bounded sets (result, mode, trigger, state, signal):
 * never a pid or an id.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly #reloads: client.Counter<'result' | 'mode' | 'trigger'>;
  readonly #duration: client.Histogram<'mode'>;
  readonly #lastSuccess: client.Gauge;
  readonly #lastFailed: client.Gauge;
  readonly #escalations: client.Counter<'signal'>;
  readonly #respawns: client.Counter;
  readonly #rollbacks: client.Counter;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    // Gauges named like counters fail `promtool check metrics`; each is the sum of its per-type gauge, which stays.
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(`${PREFIX}${name}`);
    this.#reloads = new client.Counter({
      name: `${PREFIX}reloads_total`,
      help: 'Reloads by result (ok, failed), mode, and trigger (the first of the requests it served).',
      labelNames: ['result', 'mode', 'trigger'],
      registers,
    });
    this.#duration = new client.Histogram({
      name: `${PREFIX}reload_duration_seconds`,
      help: 'Daemon-side reload duration: reading the config, haproxy -c and spawn to ready.',
      labelNames: ['mode'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#lastSuccess = new client.Gauge({ name: `${PREFIX}last_successful_reload_timestamp_seconds`, help: 'When the last successful reload finished (Unix time).', registers });
    this.#lastFailed = new client.Gauge({ name: `${PREFIX}last_reload_failed`, help: '1 when the last reload failed (the previous generation still serves), else 0.', registers });
    this.#escalations = new client.Counter({ name: `${PREFIX}escalations_total`, help: 'SIGTERM and SIGKILL sent to end generations (deadlines, restarts, hung or failed generations).', labelNames: ['signal'], registers });
    this.#respawns = new client.Counter({ name: `${PREFIX}crash_respawns_total`, help: 'Generations started to replace one that crashed or hung.', registers });
    this.#rollbacks = new client.Counter({ name: `${PREFIX}verify_rollbacks_total`, help: 'Reloads rolled back because the new generation failed the verify window.', registers });
    new client.Gauge({
      name: `${PREFIX}generations`,
      help: 'Live generations by state (starting, active, draining).',
      labelNames: ['state'],
      registers,
      collect() {
        const live = source.status().generations.filter((generation) => generation.state !== 'exited');
        for (const state of ['starting', 'active', 'draining'] as const) this.set({ state }, live.filter((generation) => generation.state === state).length);
      },
    });
    new client.Gauge({
      name: `${PREFIX}draining_connections`,
      help: 'Established connections (clients and servers) still held by draining generations.',
      registers,
      collect() {
        const draining = source.status().generations.filter((generation) => generation.state === 'draining');
        this.set(draining.reduce((sum, generation) => sum + (generation.usage?.connections.client ?? 0) + (generation.usage?.connections.server ?? 0), 0));
      },
    });
    let counted = 0;
    new client.Counter({
      name: `${PREFIX}watch_errors_total`,
      help: 'Configuration changes that could not be loaded (missing or empty files, failed reloads after a change).',
      registers,
      collect() {
        const errors = source.status().watch.errors ?? 0;
        if (errors > counted) this.inc(errors - counted);
        counted = Math.max(counted, errors);
      },
    });
  }

  /** A reload finished. */
  reloaded(result: ReloadResult): void {
    if (result.ok && result.generation === undefined) return; // a respawn with nothing to do
    this.#reloads.inc({ result: result.ok ? 'ok' : 'failed', mode: result.mode, trigger: result.triggers[0] ?? 'cli' });
    this.#duration.observe({ mode: result.mode }, result.durationMs / 1000);
    this.#lastFailed.set(result.ok ? 0 : 1);
    if (result.ok) this.#lastSuccess.set(Date.now() / 1000);
    if (result.ok && result.mode === 'respawn') this.#respawns.inc();
    if (result.ok && result.triggers.includes('watchdog')) this.#respawns.inc();
    if (result.error?.phase === 'verify') this.#rollbacks.inc();
  }

  /** SIGTERM or SIGKILL was sent to a generation. */
  escalated(signal: 'SIGTERM' | 'SIGKILL'): void {
    this.#escalations.inc({ signal });
  }
}
