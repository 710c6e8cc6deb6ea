import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { parentPid, processArgv } from '../../src/system/processes.js';
import { endRun, markRun, runPids } from '../helpers/run-processes.js';

/** This test run's id: everything its tests start carries it (test/helpers/run-processes.ts). */
let runId: string | undefined;

/**
 * Integration tests need a built CLI and a haproxy binary. Everything they start is marked with the run's id, so an
 * interrupted run (Ctrl-C, SIGTERM, SIGHUP: vitest exits at once, without the tests' afterEach) still ends every
 * supervisor, haproxy and socket keeper it started, and nothing of another run.
 */
export function setup(): void {
  if (!existsSync(new URL('../../dist/cli/main.js', import.meta.url))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it).');
  }
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
  } catch {
    throw new Error('haproxy is not installed: `apt-get install -y haproxy` (.ci/run does it).');
  }
  const id = markRun('test');
  runId = id;
  // vitest's own SIGINT/SIGTERM listeners exit 1 ms later; this one ends the run's processes first (synchronously).
  // SIGHUP has no other listener, so this one exits too.
  const onSignal = (signal: NodeJS.Signals): void => {
    const ended = endRun(id);
    if (ended.length > 0) process.stderr.write(`\n${signal}: ended ${ended.length} process(es) this test run had started\n`);
    if (signal === 'SIGHUP') process.exit(129);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  process.once('exit', () => endRun(id, undefined, 2000));
}

/**
 * Afterwards nothing the run started may be left but vitest's own workers (this process's children): no supervisor,
 * haproxy, socket keeper, load tool or private systemd.
 */
export function teardown(): void {
  if (runId === undefined) return;
  const leaked = runPids(runId).filter((pid) => parentPid(pid) !== process.pid);
  if (leaked.length > 0) {
    const names = leaked.map((pid) => `${pid} ${processArgv(pid).join(' ').slice(0, 160)}`);
    for (const pid of leaked) killQuietly(pid);
    throw new Error(`The suite left ${leaked.length} process(es) running (now killed): ${names.join('; ')}`);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
