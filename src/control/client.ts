import { connect } from 'node:net';
import { runDirPaths } from '../config/run-dir.js';
import { NotRunningError, RemoteError } from '../errors.js';
import { ReloadFailedError } from './reload-failed.js';
import type { Reply, Request, Results } from './protocol.js';

/**
 * Sends one request to the supervisor of `runDir` and returns its typed result. Throws NotRunningError when nobody
 * listens, ReloadFailedError (with the whole result) for a failed reload, RemoteError for any other error reply.
 * With no timeout it waits as long as the daemon works (reload, stop).
 */
export function sendRequest<R extends Request>(runDir: string, request: R, timeoutMs?: number): Promise<Results[R['cmd']]> {
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
      settle(() => reject(gone ? new NotRunningError({ runDir, cause: error }) : error));
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline === -1) return;
      let reply: Reply<R['cmd']>;
      try {
        reply = JSON.parse(buffer.slice(0, newline)) as Reply<R['cmd']>;
      } catch (error) {
        settle(() => reject(new Error(`Malformed reply from ${socketPath}.`, { cause: error })));
        return;
      }
      settle(() => (reply.ok ? resolve(reply.result) : reject(replyError(reply.error))));
    });
    socket.on('close', () => settle(() => reject(new Error(`${socketPath} closed without a reply.`))));
  });
}

function replyError(error: Extract<Reply, { ok: false }>['error']): Error {
  return error.detail === undefined ? new RemoteError(error.message, { code: error.code }) : new ReloadFailedError(error.detail);
}
