import { Socket, connect } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sendRequest } from '../../../src/control/client.js';
import type { Daemon } from '../../../src/control/dispatch.js';
import { MAX_REQUEST_BYTES } from '../../../src/control/protocol.js';
import { ControlServer, MAX_PIPELINED } from '../../../src/control/server.js';
import type { HistoryEntry, ReloadResult, Status } from '../../../src/control/types.js';
import { ReloadFailedError } from '../../../src/control/reload-failed.js';
import { NotRunningError, ReloadError, RemoteError } from '../../../src/errors.js';
import { useTempDirs } from '../../helpers/temp-dirs.js';

const tempDir = useTempDirs();
const servers: ControlServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

const STATUS = { supervisor: { pid: 1, state: 'running' }, generations: [] } as unknown as Status;
const FAILED: ReloadResult = {
  id: 3, ok: false, mode: 'reload', triggers: ['cli'], hitless: false, startedAt: '', durationMs: 9, retired: [], warnings: [], timings: {},
  error: { code: 'transfer-failed', phase: 'transfer', message: 'The new generation failed to start', lines: ['[ALERT] sockets'] },
};

async function serve(daemon: Partial<Daemon>): Promise<string> {
  return (await serveWith(daemon)).runDir;
}

async function serveWith(daemon: Partial<Daemon>): Promise<{ runDir: string; server: ControlServer }> {
  const runDir = tempDir();
  const env = () => Promise.reject(new Error('not in this test'));
  const full: Daemon = { status: () => STATUS, reload: () => Promise.resolve(FAILED), stop: () => Promise.resolve(), env, history: () => Promise.resolve([]), upgrade: () => Promise.reject(new Error('not in this test')), ...daemon };
  const server = await ControlServer.listen(path.join(runDir, 'control.sock'), full, pino({ level: 'silent' }));
  servers.push(server);
  return { runDir, server };
}

function serverSide(sockets: unknown[]): Socket[] {
  return [...new Set(sockets)].filter((socket): socket is Socket => socket instanceof Socket && Boolean((socket as Socket & { server?: unknown }).server));
}

/** Sends raw bytes and collects what comes back until the server closes or `lines` replies arrived. */
function raw(runDir: string, data: string, lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(path.join(runDir, 'control.sock'));
    let buffer = '';
    const done = (): void => resolve(buffer.split('\n').filter((line) => line !== ''));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      if (buffer.split('\n').length > lines) {
        socket.destroy();
        done();
      }
    });
    socket.on('close', done);
    socket.write(data);
  });
}

describe('control server and client', () => {
  it('returns typed results end to end', async () => {
    const runDir = await serve({});
    const status = await sendRequest(runDir, { cmd: 'status' });
    expect(status.supervisor.state).toBe('running');
    expect(await sendRequest(runDir, { cmd: 'ping' })).toEqual({ pid: process.pid });
  });

  it('delivers a failed reload to the client as ReloadFailedError carrying the whole result', async () => {
    const runDir = await serve({});
    const error = await sendRequest(runDir, { cmd: 'reload', mode: 'reload-socket' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ReloadFailedError);
    expect((error as ReloadFailedError).result).toEqual(FAILED);
    expect((error as ReloadFailedError).code).toBe('transfer-failed');
  });

  it('turns an error thrown by the daemon into an error reply with its stable code', async () => {
    const runDir = await serve({
      reload: () => Promise.reject(new ReloadError('The supervisor is stopping.', { phase: 'stopping' })),
    });
    const error = await sendRequest(runDir, { cmd: 'reload', mode: 'reload' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'stopping', message: 'The supervisor is stopping.' });
  });

  it('answers garbage with bad-request and keeps the connection for the next line', async () => {
    const runDir = await serve({});
    const replies = await raw(runDir, 'not json\n{"cmd":"ping"}\n', 2);
    expect(replies.map((line) => JSON.parse(line) as { ok: boolean; error?: { code: string } })).toEqual([
      { ok: false, error: { code: 'bad-request', message: expect.any(String) as string } },
      { ok: true, result: { pid: process.pid } },
    ]);
  });

  it('rejects an oversized request and closes that connection', async () => {
    const runDir = await serve({});
    const replies = await raw(runDir, 'x'.repeat(MAX_REQUEST_BYTES + 10), 1);
    expect(JSON.parse(replies[0] ?? '{}')).toMatchObject({ ok: false, error: { code: 'too-large' } });
    expect(await sendRequest(runDir, { cmd: 'ping' })).toEqual({ pid: process.pid });
  });

  it('stops reading a refused line at once: a hostile 1 MiB line costs the daemon one read, not the line', async () => {
    const runDir = await serve({});
    // Calls through; records which sockets were destroyed. The daemon's side of a connection carries `.server`.
    const destroy = vi.spyOn(Socket.prototype, 'destroy');
    let destroyed: Socket[] = [];
    try {
      const replies = await raw(runDir, 'x'.repeat(1024 * 1024), 1);
      expect(JSON.parse(replies[0] ?? '{}')).toMatchObject({ ok: false, error: { code: 'too-large' } });
      await expect.poll(() => serverSide(destroy.mock.contexts).length).toBe(1);
      destroyed = serverSide(destroy.mock.contexts); // before mockRestore(), which forgets them
    } finally {
      destroy.mockRestore();
    }
    // One stream read is at most 64 KiB; once the line is refused nothing more may be taken from the client.
    expect(destroyed[0]?.bytesRead).toBeGreaterThan(MAX_REQUEST_BYTES);
    expect(destroyed[0]?.bytesRead).toBeLessThanOrEqual(64 * 1024);
  });

  it('queues at most MAX_PIPELINED requests of a connection that pipelines 2 000 lines in one write, and answers them all in order', async () => {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const history = async ({ limit }: { limit: number }): Promise<HistoryEntry[]> => {
      if (limit === 1) await gate;
      return [{ id: limit } as HistoryEntry];
    };
    const { runDir, server } = await serveWith({ history });
    // The first request holds its connection's queue until released; the other 1 999 arrive in the same write.
    const lines = Array.from({ length: 2000 }, (_, index) => JSON.stringify({ cmd: 'history', limit: index + 1 }));
    const replies = raw(runDir, `${lines.join('\n')}\n`, 2000);
    try {
      await expect.poll(() => server.load.requests).toBe(MAX_PIPELINED);
      // Still bounded after the rest of the write had time to arrive.
      await new Promise((resolve) => setImmediate(resolve));
      expect(server.load).toEqual({ connections: 1, requests: MAX_PIPELINED });
    } finally {
      release();
    }
    const answered = await replies;
    expect(answered).toHaveLength(2000);
    expect(answered.map((line) => (JSON.parse(line) as { result: [{ id: number }] }).result[0].id)).toEqual(lines.map((_, index) => index + 1));
    await expect.poll(() => server.load.requests).toBe(0);
  });

  it('answers every request of a client that half-closes after sending (`printf … | socat - UNIX-CONNECT:…`), the last one without its newline, then closes', async () => {
    const OK = { ...FAILED, ok: true, error: undefined };
    const runDir = await serve({ reload: () => new Promise((resolve) => setTimeout(() => resolve(OK), 100)) });
    const replies = await new Promise<string[]>((resolve, reject) => {
      const socket = connect(path.join(runDir, 'control.sock'));
      let buffer = '';
      socket.on('error', reject);
      socket.on('data', (chunk) => (buffer += chunk.toString()));
      socket.on('close', () => resolve(buffer.split('\n').filter((line) => line !== '')));
      socket.end('{"cmd":"reload","mode":"reload"}\n{"cmd":"ping"}'); // `printf`, no newline at the end
    });
    expect(replies.map((line) => JSON.parse(line) as { ok: boolean })).toEqual([
      { ok: true, result: expect.objectContaining({ id: FAILED.id }) as unknown },
      { ok: true, result: { pid: process.pid } },
    ]);
  });

  it('says the supervisor is not running when nobody listens', async () => {
    await expect(sendRequest(tempDir(), { cmd: 'status' })).rejects.toBeInstanceOf(NotRunningError);
  });
});
