import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { resolveRunDir } from '../../config/options.js';
import { runDirPaths } from '../../config/run-dir.js';
import { sendRequest } from '../../control/client.js';
import { NotRunningError } from '../../errors.js';
import { handle } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatStatus, printJson, printLine } from '../output.js';
import { clientOptions, type ClientArgs } from '../shared-options.js';

export type StatusArgs = ClientArgs & { watch: boolean; interval: number };

/** `status --watch`: redraws in place on a terminal (prints one status after another elsewhere) until interrupted. */
async function watch(args: StatusArgs): Promise<number> {
  const runDir = resolveRunDir(args.runDir);
  for (;;) {
    const text = formatStatus(await sendRequest(runDir, { cmd: 'status' }, 10_000));
    printLine(process.stdout.isTTY ? `\x1b[H\x1b[2J${new Date().toISOString()}  (every ${args.interval}s, Ctrl-C to stop)\n\n${text}` : `${text}\n`);
    await new Promise((resolve) => setTimeout(resolve, args.interval * 1000));
  }
}

export async function status(args: StatusArgs): Promise<number> {
  const runDir = resolveRunDir(args.runDir);
  // Only when typed: HAPROXY_SUPERVISOR_WATCH in the environment is the daemon's --watch, not a reason to loop.
  if (args.watch && !args.json && process.argv.slice(2).includes('--watch')) return watch(args);
  try {
    const result = await sendRequest(runDir, { cmd: 'status' }, 10_000);
    if (args.json) printJson(result);
    else printLine(formatStatus(result));
    return ExitCode.ok;
  } catch (error) {
    if (!(error instanceof NotRunningError)) throw error;
    // LSB status: 1 = dead but the pidfile exists, 3 = not running.
    const stale = existsSync(runDirPaths(runDir).pidfile);
    if (args.json) printJson({ running: false, stalePidfile: stale });
    else printLine(stale ? `haproxy-supervisor is dead but ${runDirPaths(runDir).pidfile} exists.` : 'haproxy-supervisor is not running.');
    return stale ? ExitCode.failure : ExitCode.notRunning;
  }
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: 'Show generations (connections, RSS, deadlines), the last reload and crash-loop state (exit 0 running, 3 not running)',
  builder: {
    ...clientOptions,
    watch: { type: 'boolean', default: false, describe: 'Refresh in place until interrupted' },
    interval: { type: 'number', default: 1, describe: 'Seconds between refreshes with --watch' },
  },
  handler: handle(status),
};
