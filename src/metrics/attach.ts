import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { ReloadResult, Status } from '../control/types.js';
import type { Fleet } from '../supervisor/fleet.js';
import { Metrics } from './metrics.js';
import { listenMetrics } from './server.js';

/** What the supervisor tells the metrics, and how it ends them. */
export type MetricsHandle = { reloaded(result: ReloadResult): void; close(): Promise<void> };

/**
 * Starts the --metrics-listen endpoint for a daemon: gauges read its status at scrape time, escalations come from
 * the fleet, reload results from `reloaded`. Loaded only when the option is set (prom-client costs memory).
 */
export async function attachMetrics(address: string, source: { status(): Status }, fleet: Fleet, log: Logger): Promise<MetricsHandle> {
  const metrics = new Metrics(source);
  fleet.on('escalated', (signal) => metrics.escalated(signal));
  const server: Server = await listenMetrics(address, metrics, source, log);
  return {
    reloaded: (result) => metrics.reloaded(result),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
