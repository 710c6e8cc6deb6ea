import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { frontendConfig } from '../test/helpers/configs.js';
import { freePort } from '../test/helpers/os-probes.js';
import { Probe } from '../test/helpers/probe.js';
import { CLI, Subject, type Mode } from './subjects.js';

/**
 * A reload to a configuration haproxy accepts but that breaks traffic: its only backend server moved to a closed
 * port (with `check inter 200ms`), under the 50-client per-request probe. What the reload reported, and how many
 * requests failed in the 3 s after it was asked for, and after it returned.
 */
export type VerifyRow = { mode: Mode; outcome: string; requests: number; failed: number; failedAfterReturn: number; failures: Record<string, number> };

/** With the stats socket the init-script recipe's `-x` needs (subjects.ts smallConfig's). */
function config(port: number, dir: string, serverPort: number): string {
  const global = `    stats socket ${dir}/admin.sock mode 600 level admin expose-fd listeners`;
  return frontendConfig(port, ['default_backend app'], global).replace('defaults\n', 'defaults\n    option idle-close-on-response\n') + `backend app\n    server s1 127.0.0.1:${serverPort} check inter 200ms\n`;
}

export async function brokenReload(mode: Mode): Promise<VerifyRow> {
  const backend = http.createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const backendPort = (backend.address() as { port: number }).port;
  const port = await freePort();
  const subject = new Subject(mode, port, (dir) => config(port, dir, backendPort));
  try {
    await subject.start();
    const probe = new Probe(port, { concurrency: 50, maxRequests: 5_000_000, maxMs: 30_000 }).start();
    await sleep(1000);
    writeFileSync(subject.config, config(port, subject.dir, await freePort()));
    const before = { requests: probe.report.requests, failed: probe.report.failed };
    const failures = { ...probe.report.failures };
    let outcome = 'applied';
    if (mode === 'supervisor-cli') {
      const reload = await execa(CLI, ['reload', '--run-dir', subject.runDir], { reject: false });
      outcome = reload.exitCode === 0 ? 'applied' : `rolled back (exit ${reload.exitCode ?? '?'})`;
    } else {
      await subject.trigger();
    }
    const returned = probe.report.failed;
    await sleep(3000);
    const report = await probe.stop();
    const since: Record<string, number> = {};
    for (const [kind, count] of Object.entries(report.failures)) if (count - (failures[kind] ?? 0) > 0) since[kind] = count - (failures[kind] ?? 0);
    return { mode, outcome, requests: report.requests - before.requests, failed: report.failed - before.failed, failedAfterReturn: report.failed - returned, failures: since };
  } finally {
    await subject.stop();
    await new Promise((resolve) => backend.close(resolve));
  }
}
