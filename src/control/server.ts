import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { errorCode } from '../errors.js';
import { refusedRead } from '../system/reclaim.js';
import { dispatch, type Daemon } from './dispatch.js';
import { MAX_REQUEST_BYTES, errorReply, isErrorReply, parseRequest, type Reply } from './protocol.js';

/** A connection that sends nothing for this long is closed (a running request is not cut). */
const IDLE_MS = 60_000;

/** Most control connections open at once; one more gets a `busy` reply and is closed. */
export const MAX_CONNECTIONS = 128;

/** Most requests of one connection queued at once; beyond it, the daemon stops reading that connection. */
export const MAX_PIPELINED = 16;

const NEWLINE = 0x0a;

type Connection = { socket: Socket; inFlight: number; badRequests: number };

/**
 * The control socket: mode 0600, or 0660 with a group. Malformed, oversized or unknown requests get an error
 * reply; nothing a client sends can crash or stall the daemon, and what clients can make it hold is bounded:
 * MAX_CONNECTIONS connections, MAX_REQUEST_BYTES buffered per connection, MAX_PIPELINED queued requests each
 * (further lines wait as received bytes, the socket paused).
 */
export class ControlServer {
  readonly #server: Server;
  readonly #daemon: Daemon;
  readonly #log: Logger;
  readonly #connections = new Set<Connection>();
  #closing = false;

  private constructor(daemon: Daemon, log: Logger) {
    this.#daemon = daemon;
    this.#log = log;
    // Half-open: a client may end its side once it has sent (`echo '{"cmd":"reload"}' | socat - UNIX-CONNECT:…`)
    // and still gets every reply; the daemon ends its side after the last one.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#serve(socket));
  }

  /** Binds `path` (replacing a stale socket: the pidfile proved no live supervisor owns it). */
  static async listen(path: string, daemon: Daemon, log: Logger, gid?: number): Promise<ControlServer> {
    try {
      unlinkSync(path);
    } catch {
      // Not there.
    }
    const control = new ControlServer(daemon, log);
    await new Promise<void>((resolve, reject) => {
      control.#server.once('error', reject);
      // Bind under a umask so the socket never exists with wider permissions, then set them explicitly.
      const umask = process.umask(0o177);
      try {
        control.#server.listen(path, () => {
          control.#server.off('error', reject);
          control.#server.on('error', (error) => log.error({ err: error }, 'control socket error'));
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
    if (gid !== undefined) chownSync(path, -1, gid);
    chmodSync(path, gid === undefined ? 0o600 : 0o660);
    return control;
  }

  /**
   * Stops accepting and removes the socket path at once, so that another daemon can bind it (`upgrade`);
   * connections already open still get their replies. `close()` finishes the job.
   */
  stopListening(path: string): void {
    this.#server.close();
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }

  /** Open connections and the requests they have queued (what clients make the daemon hold). */
  get load(): { connections: number; requests: number } {
    let requests = 0;
    for (const connection of this.#connections) requests += connection.inFlight;
    return { connections: this.#connections.size, requests };
  }

  /** Stops accepting, lets every connection finish its requests and replies, then resolves. */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections) {
      if (connection.inFlight === 0) connection.socket.end();
    }
    await closed;
  }

  #serve(socket: Socket): void {
    socket.on('error', () => undefined); // a client that went away is not our problem
    if (this.#connections.size >= MAX_CONNECTIONS) {
      socket.end(`${JSON.stringify(errorReply('busy', `More than ${MAX_CONNECTIONS} control connections are open; try again.`))}\n`, () => socket.destroy());
      return;
    }
    const connection: Connection = { socket, inFlight: 0, badRequests: 0 };
    this.#connections.add(connection);
    // The bytes of the line being received, kept as Buffers (never one growing string) and capped.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let refused = false;
    let queue = Promise.resolve();
    socket.setTimeout(IDLE_MS, () => {
      if (connection.inFlight === 0) socket.destroy();
    });
    socket.on('close', () => this.#connections.delete(connection));
    const reply = (message: Reply): void => {
      if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
    };
    /** Refuses the line being received; `read` is what the socket read of it (now garbage). */
    const refuse = (read: number): void => {
      refused = true;
      pending = [];
      const message = errorReply('too-large', `Request longer than ${MAX_REQUEST_BYTES} bytes; the connection is closed.`);
      // The rest of the line is never read: reading stops now, the reply goes out and the connection is closed.
      socket.pause();
      socket.write(`${JSON.stringify(message)}\n`);
      // A Unix socket write usually completes at once: then the reply is in the client's queue and closing now keeps
      // the stream from reading (and allocating) one more 64 KiB chunk of a line already refused. Otherwise close
      // once it is written.
      if (socket.writableLength === 0) socket.destroy();
      else socket.end(() => socket.destroy());
      refusedRead(read);
    };
    const take = (line: string): void => {
      connection.inFlight++;
      queue = queue.then(async () => {
        reply(await this.#answer(line, connection));
        connection.inFlight--;
        pump();
        if (this.#closing && connection.inFlight === 0) socket.end();
      });
    };
    /** The line received so far (in `pending`) is complete: queue it, unless it is blank. */
    const takePending = (): void => {
      const line = (pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending)).toString('utf8').trim();
      pending = [];
      pendingBytes = 0;
      if (line !== '') take(line);
    };
    // Received bytes not yet cut into lines: a client that pipelines faster than it reads waits here, with the
    // socket paused, instead of every line of a 64 KiB chunk becoming a queued request at once.
    let unread: Buffer | undefined;
    let offset = 0;
    const pump = (): void => {
      while (unread !== undefined && !refused) {
        if (connection.inFlight >= MAX_PIPELINED) {
          socket.pause();
          return;
        }
        const newline = unread.indexOf(NEWLINE, offset);
        const end = newline === -1 ? unread.length : newline;
        pendingBytes += end - offset;
        if (pendingBytes > MAX_REQUEST_BYTES) return refuse(unread.length);
        if (newline === -1) {
          // A copy, so the chunk itself (up to 64 KiB) is not kept alive by a short tail.
          if (offset < unread.length) pending.push(Buffer.from(unread.subarray(offset)));
          unread = undefined;
          break;
        }
        pending.push(unread.subarray(offset, newline));
        offset = newline + 1;
        takePending();
      }
      if (refused) return;
      socket.resume();
      settle();
    };
    // Once the client has ended its side and every line it sent is cut: a last line without its newline is a request
    // too, and after the last reply the daemon ends its side.
    let ended = false;
    const settle = (): void => {
      if (!ended || refused || unread !== undefined) return;
      takePending();
      if (connection.inFlight === 0) socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      if (refused) return;
      unread = unread === undefined ? chunk : Buffer.concat([unread.subarray(offset), chunk]);
      offset = 0;
      pump();
    });
    socket.on('end', () => {
      ended = true;
      settle();
    });
  }

  async #answer(line: string, connection: Connection): Promise<Reply> {
    const request = parseRequest(line);
    if (isErrorReply(request)) {
      // Logged once per connection: a client sending garbage in a loop must not flood the log.
      if (connection.badRequests++ === 0) this.#log.warn({ error: request.error.message }, 'bad control request');
      return request;
    }
    try {
      return await dispatch(this.#daemon, request);
    } catch (error) {
      this.#log.error({ err: error, cmd: request.cmd }, 'control request failed');
      return errorReply(errorCode(error), (error as Error).message);
    }
  }
}
