import { failedReloadReply, type Reply, type Request } from './protocol.js';
import type { ReloadRequestMode, ReloadResult, Status } from './types.js';

/** How to stop: graceful (soft-stop, wait up to the drain deadline, escalate) or hard (SIGTERM now). */
export type StopOptions = { hard: boolean; drainTimeoutMs?: number };

/** What the control socket can ask of the daemon. */
export interface Daemon {
  status(): Status;
  reload(mode: ReloadRequestMode, trigger: 'cli'): Promise<ReloadResult>;
  stop(options: StopOptions): Promise<void>;
}

/** Answers one valid request: the daemon's work, turned into the reply the protocol defines. */
export async function dispatch(daemon: Daemon, request: Request): Promise<Reply> {
  switch (request.cmd) {
    case 'ping':
      return { ok: true, result: { pid: process.pid } };
    case 'status':
      return { ok: true, result: daemon.status() };
    case 'reload': {
      const result = await daemon.reload(request.mode, 'cli');
      return result.ok ? { ok: true, result } : failedReloadReply(result);
    }
    case 'stop':
      await daemon.stop({ hard: request.hard, ...(request.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: request.drainTimeoutMs }) });
      return { ok: true, result: daemon.status() };
  }
}
