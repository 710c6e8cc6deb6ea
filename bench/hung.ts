import { setTimeout as sleep } from 'node:timers/promises';
import { sendRequest } from '../src/control/client.js';
import { haproxyPids } from '../test/helpers/haproxy-processes.js';
import { freePort, isAlive } from '../test/helpers/os-probes.js';
import { Probe } from '../test/helpers/probe.js';
import { Subject, type Mode } from './subjects.js';

/**
 * A hung haproxy (SIGSTOP of the serving process after 1.5 s of service, as a dead disk or a loop would leave it),
 * under the 50-client per-request probe: whether and when the service answers again, how many requests failed by
 * kind while it was hung, and how many of those started once it answered again failed (the target: 0).
 */
export type HungRow = { mode: Mode; recovered: boolean; recoveryMs: number | undefined; failedWhileHung: Record<string, number>; failedAfter: number; requestsAfter: number };

/** The process that serves for a mode: the supervisor's active generation, master-worker's worker, the daemon. */
async function servingPid(subject: Subject): Promise<number | undefined> {
  if (subject.mode.startsWith('supervisor')) {
    const status = await sendRequest(subject.runDir, { cmd: 'status' }).catch(() => undefined);
    return status?.generations.find((generation) => generation.state === 'active')?.pid;
  }
  const pids = haproxyPids(subject.dir);
  return subject.mode === 'master-worker' ? pids.find((pid) => pid !== subject.masterPid) : pids[0];
}

/** SIGSTOP of the serving haproxy under load; the supervisor runs with its default watchdog (1 s, 3 misses). */
export async function hungUnderLoad(mode: Mode, waitMs: number): Promise<HungRow> {
  const subject = new Subject(mode, await freePort());
  let stopped: number | undefined;
  try {
    await subject.start();
    const during = new Probe(subject.port, { concurrency: 50, maxRequests: 2_000_000, maxMs: waitMs + 20_000 }).start();
    await sleep(1500);
    stopped = await servingPid(subject);
    if (stopped === undefined) throw new Error(`${mode}: nothing serves`);
    const stoppedAt = performance.now();
    process.kill(stopped, 'SIGSTOP');
    const recovered = await subject.answersWithin(waitMs);
    const recoveryMs = recovered ? Math.round(performance.now() - stoppedAt) : undefined;
    await during.stop();
    let after = { failed: 0, requests: 0 };
    if (recovered) {
      const probe = new Probe(subject.port, { concurrency: 50, maxRequests: 5000, maxMs: 10_000 }).start();
      await probe.done();
      after = { failed: probe.report.failed, requests: probe.report.requests };
    }
    return { mode, recovered, recoveryMs, failedWhileHung: during.report.failures, failedAfter: after.failed, requestsAfter: after.requests };
  } finally {
    if (stopped !== undefined && isAlive(stopped)) process.kill(stopped, 'SIGCONT');
    await subject.stop();
  }
}
