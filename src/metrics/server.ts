import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Status } from '../control/types.js';
import { OptionError } from '../errors.js';
import type { Metrics } from './metrics.js';

/** `host:port` of --metrics-listen, or OptionError. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new OptionError(`Expected \`--metrics-listen\` to be host:port like 127.0.0.1:9101, got \`${value}\`.`);
  }
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}

/** Why nothing serves, or undefined when an active generation answers. */
export function notReady(status: Status): string | undefined {
  if (status.supervisor.state !== 'running') return `the supervisor is ${status.supervisor.state}`;
  const active = status.generations.find((generation) => generation.state === 'active');
  if (active === undefined) return `no generation serves${status.crashLoop.lastError === undefined ? '' : `: ${status.crashLoop.lastError}`}`;
  if (active.hung !== undefined) return `generation ${active.id} is hung (${active.hung.reason})`;
  return undefined;
}

/**
 * The HTTP listener of --metrics-listen: `/metrics` (Prometheus text), `/healthz` (200 while the supervisor
 * answers), `/readyz` (200 while an active generation serves, else 503 with the reason) — for Prometheus, load
 * balancers in front and orchestrators' probes.
 */
export async function listenMetrics(address: string, metrics: Metrics, source: { status(): Status }, log: Logger): Promise<Server> {
  const { host, port } = parseListen(address);
  const server = createServer((request, response) => {
    const reply = (code: number, type: string, body: string): void => {
      response.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    const url = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'text/plain', 'GET only\n');
    if (url === '/healthz') return reply(200, 'text/plain', 'ok\n');
    if (url === '/readyz') {
      const reason = notReady(source.status());
      return reason === undefined ? reply(200, 'text/plain', 'ready\n') : reply(503, 'text/plain', `not ready: ${reason}\n`);
    }
    if (url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => reply(200, metrics.registry.contentType, text),
        (error: unknown) => reply(500, 'text/plain', `${(error as Error).message}\n`),
      );
      return;
    }
    reply(404, 'text/plain', 'try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'metrics listener error'));
  log.info({ address }, 'metrics and health endpoints listening');
  return server;
}
