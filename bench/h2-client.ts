import http2 from 'node:http2';
import { summarize, type Summary } from './stats.js';

/** What the HTTP/2 clients saw: every request once; failures by kind; latencies of the successful ones. */
export type H2Report = { requests: number; ok: number; failed: number; failures: Record<string, number>; retried: number; sessions: number; latencyMs: Summary; meanMs: number };

type Outcome = { ok: true } | { ok: false; kind: string; retryable: boolean };

/**
 * A browser-like HTTP/2 load over TLS, as h2load cannot measure reloads (it gives up on a connection at its first
 * GOAWAY and counts every request it had left as failed): `sessions` connections, each keeping `streams` requests in
 * flight. A session that receives GOAWAY takes no new request and a fresh session replaces it; requests already sent
 * finish on the old one (haproxy's graceful GOAWAY announces the last stream id 2^31-1). A request refused before it
 * was processed (REFUSED_STREAM, or a session gone before any answer) is retried once on a fresh session, as RFC 9113
 * §8.7 allows; anything else is a failure.
 */
export class H2Load {
  readonly #url: string;
  readonly #sessions: number;
  readonly #streams: number;
  readonly #deadline: number;
  readonly #failures: Record<string, number> = {};
  readonly #latencies: number[] = [];
  #requests = 0;
  #ok = 0;
  #retried = 0;
  #opened = 0;
  #running = true;

  constructor(port: number, options: { sessions: number; streams: number; seconds: number }) {
    this.#url = `https://127.0.0.1:${port}`;
    this.#sessions = options.sessions;
    this.#streams = options.streams;
    this.#deadline = performance.now() + options.seconds * 1000;
  }

  /** Runs until the time is up; resolves with the report. */
  async run(): Promise<H2Report> {
    await Promise.all(Array.from({ length: this.#sessions }, () => this.#client()));
    const latencies = this.#latencies;
    const mean = latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length);
    return {
      requests: this.#requests,
      ok: this.#ok,
      failed: this.#requests - this.#ok,
      failures: this.#failures,
      retried: this.#retried,
      sessions: this.#opened,
      latencyMs: summarize(latencies),
      meanMs: Math.round(mean * 100) / 100,
    };
  }

  stop(): void {
    this.#running = false;
  }

  #live(): boolean {
    return this.#running && performance.now() < this.#deadline;
  }

  /** One client: a session at a time, `streams` requests in flight on it, a new session after GOAWAY or a close. */
  async #client(): Promise<void> {
    while (this.#live()) {
      const session = this.#connect();
      await Promise.all(Array.from({ length: this.#streams }, () => this.#lane(session)));
      session.close();
    }
  }

  /** Requests one after the other on `session` until it is going away (or the time is up). */
  async #lane(session: http2.ClientHttp2Session): Promise<void> {
    while (this.#live() && !session.closed && !session.destroyed && !(session as { goingAway?: boolean }).goingAway) {
      this.#requests++;
      const started = performance.now();
      let outcome = await request(session);
      if (!outcome.ok && outcome.retryable) {
        // Never processed: once more, on a fresh session (what a browser does).
        this.#retried++;
        const fresh = this.#connect();
        outcome = await request(fresh);
        fresh.close();
      }
      if (outcome.ok) {
        this.#ok++;
        this.#latencies.push(performance.now() - started);
      } else {
        this.#failures[outcome.kind] = (this.#failures[outcome.kind] ?? 0) + 1;
      }
    }
  }

  #connect(): http2.ClientHttp2Session {
    this.#opened++;
    const session = http2.connect(this.#url, { rejectUnauthorized: false });
    session.on('error', () => undefined);
    session.on('goaway', () => Object.assign(session, { goingAway: true }));
    return session;
  }
}

/** Node's codes for a request the server never saw: made on a session that was going away or already closed. */
const NOT_SENT = new Set(['ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_STREAM_CANCEL']);

/**
 * One GET. Retryable only when the server provably did not process it: REFUSED_STREAM, or a request Node never sent
 * (the session was going away or closed); any other end before an answer is a failure.
 */
function request(session: http2.ClientHttp2Session): Promise<Outcome> {
  return new Promise((resolve) => {
    let answered = false;
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (!settled) resolve(outcome);
      settled = true;
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':path': '/', ':method': 'GET' });
    } catch {
      settle({ ok: false, kind: 'not sent: session closed', retryable: true });
      return;
    }
    stream.setTimeout(5000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    stream.on('response', (headers) => {
      answered = true;
      const status = Number(headers[':status']);
      stream.resume();
      stream.on('end', () => settle(status === 200 ? { ok: true } : { ok: false, kind: `http ${status}`, retryable: false }));
    });
    stream.on('error', (error: NodeJS.ErrnoException) => {
      const refused = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
      settle({ ok: false, kind: refused ? 'refused stream' : (error.code ?? error.message), retryable: !answered && (refused || NOT_SENT.has(error.code ?? '')) });
    });
    stream.on('close', () => {
      const refused = stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
      settle(answered ? { ok: false, kind: 'closed during the answer', retryable: false } : { ok: false, kind: refused ? 'refused stream' : `closed before an answer (rst ${stream.rstCode})`, retryable: refused });
    });
  });
}
