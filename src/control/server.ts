import { chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { OptionError, errorCode } from '../errors.js';
import { resolveGroup } from '../system/group.js';
import { dispatch, type Daemon } from './dispatch.js';
import { MAX_REQUEST_BYTES, errorReply, isErrorReply, parseRequest, type Reply } from './protocol.js';

/** A connection that sends nothing for this long is closed (a running request is not cut). */
const IDLE_MS = 60_000;

type Connection = { socket: Socket; inFlight: number };

/**
 * The control socket: mode 0600, or 0660 with a group. Malformed, oversized or unknown requests get an error
 * reply; nothing a client sends can crash or stall the daemon.
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
    this.#server = createServer((socket) => this.#serve(socket));
  }

  /** Binds `path` (replacing a stale socket: the pidfile proved no live supervisor owns it). */
  static async listen(path: string, daemon: Daemon, log: Logger, socketGroup?: string): Promise<ControlServer> {
    const gid = socketGroup === undefined ? undefined : resolveGroup(socketGroup);
    if (socketGroup !== undefined && gid === undefined) {
      throw new OptionError(`Expected \`--socket-group\` to name a group in /etc/group, got \`${socketGroup}\`.`);
    }
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
    const connection: Connection = { socket, inFlight: 0 };
    this.#connections.add(connection);
    let buffer = '';
    let refused = false;
    let queue = Promise.resolve();
    socket.setEncoding('utf8');
    socket.setTimeout(IDLE_MS, () => {
      if (connection.inFlight === 0) socket.destroy();
    });
    socket.on('error', () => undefined); // a client that went away is not our problem
    socket.on('close', () => this.#connections.delete(connection));
    const reply = (message: Reply): void => {
      if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
    };
    socket.on('data', (chunk: string) => {
      if (refused) return;
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line === '') continue;
        connection.inFlight++;
        queue = queue.then(async () => {
          reply(await this.#answer(line));
          connection.inFlight--;
          if (this.#closing && connection.inFlight === 0) socket.end();
        });
      }
      if (Buffer.byteLength(buffer) > MAX_REQUEST_BYTES) {
        buffer = '';
        refused = true;
        reply(errorReply('too-large', `Request longer than ${MAX_REQUEST_BYTES} bytes; the connection is closed.`));
        socket.end();
      }
    });
  }

  async #answer(line: string): Promise<Reply> {
    const request = parseRequest(line);
    if (isErrorReply(request)) {
      this.#log.warn({ error: request.error.message }, 'bad control request');
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
