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

async function status(args: ClientArgs): Promise<number> {
  const runDir = resolveRunDir(args.runDir);
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

export const statusCommand: CommandModule<object, ClientArgs> = {
  command: 'status',
  describe: 'Show generations, the last reload and crash-loop state (exit 0 running, 3 not running)',
  builder: clientOptions,
  handler: handle(status),
};
