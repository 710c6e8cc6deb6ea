import type { Logger } from 'pino';
import { UpgradeError } from '../errors.js';
import { crashPoint } from '../system/crash-point.js';
import { spawnSuccessor } from '../system/daemon.js';
import type { RunDirLease } from './run-dir-lease.js';

/** What the successor reported once it served. */
export type Successor = { pid: number; version: string };

/**
 * `upgrade`: starts the supervisor binary found now (after `npm install -g`, the new version) with this process's
 * command line and HAPSUP_HANDOVER_FROM, gives it the run dir (pidfile, control socket) and waits until it has
 * adopted the live generations and serves. Throws when it did not; the run dir is then taken back, and this
 * supervisor stays in charge. haproxy is not touched either way.
 */
export async function handOver(lease: RunDirLease, timeoutMs: number, log: Logger): Promise<Successor> {
  lease.release();
  const script = process.argv[1] ?? '';
  const successor = spawnSuccessor(process.execPath, [...process.execArgv, script, ...process.argv.slice(2)], { ...process.env, HAPSUP_HANDOVER_FROM: String(process.pid) });
  log.info({ pid: successor.pid, script }, 'upgrade: successor started');
  crashPoint('handover-spawned');
  let timer: NodeJS.Timeout | undefined;
  const line = await Promise.race([
    successor.firstLine,
    successor.exited.then(() => undefined),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
  ]);
  clearTimeout(timer);
  const report = line === undefined ? undefined : (JSON.parse(line) as { ok: boolean; pid?: number; version?: string; message?: string });
  if (report?.ok === true && report.pid !== undefined) {
    crashPoint('handover-reported');
    successor.detach();
    log.info({ successor: report.pid, version: report.version }, 'upgrade: handed over; exiting without touching haproxy');
    return { pid: report.pid, version: report.version ?? 'unknown' };
  }
  if (successor.pid !== undefined && report === undefined) {
    try {
      process.kill(successor.pid, 'SIGKILL'); // our own child, not yet reaped: it cannot be another process
    } catch {
      // Gone already.
    }
  }
  await lease.retake();
  throw new UpgradeError(`The new supervisor did not take over (${report?.message ?? (line === undefined ? 'no report in time' : 'it failed')}); this one stays in charge.`);
}
