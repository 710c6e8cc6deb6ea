import v8 from 'node:v8';
import { writeSync, closeSync } from 'node:fs';
import { resolveOptions } from '../config/options.js';
import { version } from '../version.js';
import { createLogger } from '../log.js';
import { installSignalPolicy } from '../supervisor/signal-policy.js';
import { systemdEvents } from '../supervisor/notify-policy.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { createNotifier } from '../system/notify.js';
import { pidOneRole } from '../system/pid-one.js';
import { readCgroup } from '../system/proc.js';
import { RunDirOwnedError } from '../errors.js';
import { exitCodeFor } from './exit-codes.js';
import { formatError, printError } from './output.js';
import type { DaemonArgs } from './shared-options.js';

/** Tells `start` (fd HAPSUP_READY_FD) whether the first generation serves. */
function report(message: object): void {
  const fd = Number(process.env['HAPSUP_READY_FD']);
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, `${JSON.stringify(message)}\n`);
    closeSync(fd);
  } catch {
    // `start` gave up waiting.
  }
  delete process.env['HAPSUP_READY_FD'];
}

/** The daemon in the foreground; returns its exit code. */
export async function runDaemon(args: DaemonArgs): Promise<number> {
  const options = resolveOptions(args);
  // /proc/<pid>/comm becomes SUPERVISOR_COMM: how the pidfile check recognizes a live supervisor (system/pidfile.ts).
  process.title = 'haproxy-supervisor';
  v8.setFlagsFromString('--optimize-for-size');
  const log = await createLogger(options.logLevel);
  if (pidOneRole() === 'pid1') {
    log.warn('running as PID 1 without an init: orphaned processes will stay zombies (Node reaps only its own children); install tini, which the bin puts in front of itself as PID 1, or run the container with --init');
  }
  const notifier = createNotifier(process.env, (message) => log.warn({ notify: message }, 'sd_notify failed'));
  // Set by `upgrade` in its successor: the predecessor's pid (still alive until this one serves).
  const handoverFrom = Number(process.env['HAPSUP_HANDOVER_FROM']) || undefined;
  delete process.env['HAPSUP_HANDOVER_FROM'];
  // Outside systemd there is no one to tell: no status line is built after every reload.
  const supervisor = new Supervisor(options, log, notifier.active ? systemdEvents(notifier) : undefined, handoverFrom);
  installSignalPolicy(supervisor, log);
  process.on('unhandledRejection', (error) => log.error({ err: error }, 'unhandled rejection'));
  try {
    const result = await supervisor.start();
    report({ ok: true, pid: process.pid, version, result });
  } catch (error) {
    if (error instanceof RunDirOwnedError && error.pid !== undefined && notifier.active && readCgroup(error.pid) === readCgroup('self')) {
      // The unit was restarted while a supervisor of its own cgroup owns the run dir: an `upgrade` successor whose
      // predecessor (the main process) died mid-hand-over. That one is the unit's supervisor: make it the main
      // process rather than fail with 12 and leave it unmanaged.
      log.warn({ pid: error.pid }, 'a supervisor of this unit already owns the run dir (an upgrade interrupted by a crash): it becomes the main process');
      notifier.send({ MAINPID: String(error.pid), READY: '1', STATUS: `haproxy-supervisor pid ${error.pid} serves (taken over after an interrupted upgrade)` });
      await notifier.close();
      return 0;
    }
    log.fatal({ err: error }, 'supervisor could not start');
    report({ ok: false, message: formatError(error), exitCode: exitCodeFor(error) });
    printError(formatError(error));
    notifier.send({ STATUS: `failed to start: ${formatError(error).split('\n')[0] ?? ''}` });
    await notifier.close();
    return exitCodeFor(error);
  }
  await supervisor.stopped;
  await supervisor.close();
  await notifier.close();
  log.info('supervisor exited');
  return 0;
}

