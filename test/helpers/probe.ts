import http from 'node:http';

/** What a probe saw: every request counted once, failures by kind (HTTP status or socket error code). */
export type ProbeReport = { requests: number; ok: number; failed: number; failures: Record<string, number>; bodies: Record<string, number>; latenciesMs: number[] };

/**
 * A per-request HTTP probe: `concurrency` workers, each sending one request per new connection (no keep-alive,
 * no retries), until stopped or a bound in requests or time is reached.
 */
export class Probe {
  readonly #port: number;
  readonly #concurrency: number;
  readonly #maxRequests: number;
  readonly #deadline: number;
  readonly report: ProbeReport = { requests: 0, ok: 0, failed: 0, failures: {}, bodies: {}, latenciesMs: [] };
  #running = false;
  #workers: Array<Promise<void>> = [];

  constructor(port: number, options: { concurrency: number; maxRequests: number; maxMs: number }) {
    this.#port = port;
    this.#concurrency = options.concurrency;
    this.#maxRequests = options.maxRequests;
    this.#deadline = Date.now() + options.maxMs;
  }

  start(): this {
    this.#running = true;
    this.#workers = Array.from({ length: this.#concurrency }, () => this.#worker());
    return this;
  }

  /** Resolves when every worker reached a bound (requests or time) by itself. */
  async done(): Promise<void> {
    await Promise.all(this.#workers);
  }

  async stop(): Promise<ProbeReport> {
    this.#running = false;
    await Promise.all(this.#workers);
    return this.report;
  }

  async #worker(): Promise<void> {
    while (this.#running && this.report.requests < this.#maxRequests && Date.now() < this.#deadline) {
      this.report.requests++;
      const started = performance.now();
      const outcome = await this.#once();
      this.report.latenciesMs.push(performance.now() - started);
      if (outcome.ok) {
        this.report.ok++;
        this.report.bodies[outcome.kind] = (this.report.bodies[outcome.kind] ?? 0) + 1;
      } else {
        this.report.failed++;
        this.report.failures[outcome.kind] = (this.report.failures[outcome.kind] ?? 0) + 1;
      }
    }
  }

  #once(): Promise<{ ok: boolean; kind: string }> {
    return new Promise((resolve) => {
      const request = http.get({ host: '127.0.0.1', port: this.#port, path: '/', agent: false, timeout: 5000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(response.statusCode === 200 ? { ok: true, kind: body } : { ok: false, kind: `http ${response.statusCode}` }));
        response.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, kind: error.code ?? error.message }));
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, kind: error.code ?? error.message }));
    });
  }
}
