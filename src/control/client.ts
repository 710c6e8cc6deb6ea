import { connect } from 'node:net';
import { runDirPaths } from '../config/run-dir.js';
import { NotRunningError, RemoteError } from '../errors.js';
import type { Reply, Request } from './protocol.js';

/**
 * Sends one request to the supervisor of `runDir` and returns its result. Throws NotRunningError when nobody
 * listens, RemoteError for an error reply. With no timeout it waits as long as the daemon works (reload, stop).
 */
export function sendRequest(runDir: string, request: Request, timeoutMs?: number): Promise<unknown> {
  const socketPath = runDirPaths(runDir).control;
  return new Promise((resolve, reject) => {
    let buffer = '';
    let settled = false;
    const socket = connect(socketPath);
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      action();
    };
    if (timeoutMs !== undefined) {
      socket.setTimeout(timeoutMs, () => settle(() => reject(new Error(`No reply from ${socketPath} within ${timeoutMs}ms.`))));
    }
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const gone = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' || error.code === 'ENOTDIR';
      settle(() => reject(gone ? new NotRunningError(runDir, { cause: error }) : error));
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      let reply: Reply;
      try {
        reply = JSON.parse(buffer.slice(0, newline)) as Reply;
      } catch (error) {
        settle(() => reject(new Error(`Malformed reply from ${socketPath}.`, { cause: error })));
        return;
      }
      settle(() => (reply.ok ? resolve(reply.result) : reject(new RemoteError(reply.error.message, reply.error.code, reply.error.detail))));
    });
    socket.on('close', () => settle(() => reject(new Error(`${socketPath} closed without a reply.`))));
  });
}
