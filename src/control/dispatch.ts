import { errorReply, failedReloadReply, type Reply, type Request } from './protocol.js';
import type { EnvResult, HistoryEntry, ReloadRequestMode, ReloadResult, Status, UpgradeResult } from './types.js';

/** How to stop: graceful (soft-stop, wait up to the drain deadline, escalate) or hard (SIGTERM now). */
export type StopOptions = { hard: boolean; drainTimeoutMs?: number };

/** What the control socket can ask of the daemon. */
export interface Daemon {
  status(): Status;
  /** `skipVerify`: `reload --no-verify` (no verify window for this reload). */
  reload(mode: ReloadRequestMode, trigger: 'cli', skipVerify?: boolean): Promise<ReloadResult>;
  stop(options: StopOptions): Promise<void>;
  /** Changes the variables set for haproxy (or lists them, with nothing to change). */
  env(change: { set: Record<string, string>; unset: string[] }): Promise<EnvResult>;
  /** The reload history on disk, newest first: the last `limit` entries (without diffs), or entry `id` with its diff. */
  history(query: { limit: number; id?: number }): Promise<HistoryEntry[]>;
  /** Hands over to the supervisor binary found now, leaving haproxy untouched. */
  upgrade(): Promise<UpgradeResult>;
}

/** Answers one valid request: the daemon's work, turned into the reply the protocol defines. */
export async function dispatch(daemon: Daemon, request: Request): Promise<Reply> {
  switch (request.cmd) {
    case 'ping':
      return { ok: true, result: { pid: process.pid } };
    case 'status':
      return { ok: true, result: daemon.status() };
    case 'reload': {
      const result = await daemon.reload(request.mode, 'cli', request.verify === false);
      return result.ok ? { ok: true, result } : failedReloadReply(result);
    }
    case 'env': {
      const result = await daemon.env({ set: request.set, unset: request.unset });
      if (result.ok) return { ok: true, result };
      // The reload the change needed failed: its failure, with the change rolled back (result.env).
      return result.reload === undefined ? errorReply('failure', result.warnings.join(' ')) : failedReloadReply(result.reload);
    }
    case 'upgrade':
      return { ok: true, result: await daemon.upgrade() };
    case 'history':
      return { ok: true, result: await daemon.history({ limit: request.limit, ...(request.id === undefined ? {} : { id: request.id }) }) };
    case 'stop':
      await daemon.stop({ hard: request.hard, ...(request.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: request.drainTimeoutMs }) });
      return { ok: true, result: daemon.status() };
  }
}
