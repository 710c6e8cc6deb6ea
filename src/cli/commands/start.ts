import path from 'node:path';
import type { CommandModule } from 'yargs';
import { resolveOptions } from '../../config/options.js';
import { RunDirOwnedError } from '../../errors.js';
import { isLiveSupervisor, readPidfile } from '../../system/pidfile.js';
import { spawnDaemon } from '../../system/daemon.js';
import { socketGroupGid } from '../../system/group.js';
import { prepareRunDir, runDirAccess } from '../../system/run-dir.js';
import { runDirPaths } from '../../config/run-dir.js';
import type { ReloadResult } from '../../control/types.js';
import { handle } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatReload, printError, printJson, printLine } from '../output.js';
import { daemonOptions, type DaemonArgs } from '../shared-options.js';

type StartArgs = DaemonArgs & { logFile?: string; json: boolean };

/** Node flags for the daemon, as in the bin's shebang (src/cli/main.ts explains why). */
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=1', '--expose-gc'];

/** Arguments for the detached `run`: ours, without the options only `start` knows. */
function runArgs(argv: string[]): string[] {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === 'start') args.push('run');
    else if (arg === '--log-file' || arg === '--json') index += arg === '--log-file' ? 1 : 0;
    else if (!arg.startsWith('--log-file=') && !arg.startsWith('--json=')) args.push(arg);
  }
  return args;
}

async function start(args: StartArgs): Promise<number> {
  const options = resolveOptions(args);
  const paths = runDirPaths(options.runDir);
  const owner = readPidfile(paths.pidfile);
  if (owner !== undefined && isLiveSupervisor(owner)) throw new RunDirOwnedError({ pidfile: paths.pidfile, pid: owner });
  const access = runDirAccess(socketGroupGid(options.socketGroup));
  prepareRunDir(options.runDir, access);
  const logFile = path.resolve(args.logFile ?? path.join(options.runDir, 'supervisor.log'));
  const script = process.argv[1] as string;
  const daemon = spawnDaemon(process.execPath, [...DAEMON_NODE_FLAGS, script, ...runArgs(process.argv.slice(2))], logFile, process.env, access);
  const line = await Promise.race([daemon.firstLine, daemon.exited.then(() => undefined)]);
  const message = line === undefined ? undefined : (JSON.parse(line) as { ok: boolean; pid?: number; result?: ReloadResult; message?: string; exitCode?: number });
  if (message?.ok === true) {
    daemon.detach();
    if (args.json) printJson(message);
    else printLine(`haproxy-supervisor started (pid ${message.pid}); ${message.result === undefined ? '' : formatReload(message.result)}\nlogs: ${logFile}`);
    return ExitCode.ok;
  }
  const exit = await daemon.exited;
  printError(message?.message ?? `haproxy-supervisor exited (${exit.signal ?? `code ${exit.code}`}) before it served; see ${logFile}.`);
  return message?.exitCode ?? (typeof exit.code === 'number' && exit.code !== 0 ? exit.code : ExitCode.failure);
}

export const startCommand: CommandModule<object, StartArgs> = {
  command: 'start',
  describe: 'Start the supervisor detached; exits 0 once the first generation serves',
  builder: {
    ...daemonOptions,
    'log-file': { type: 'string', describe: 'Where the detached daemon writes its logs (default <run-dir>/supervisor.log)' },
    json: { type: 'boolean', default: false, describe: 'Print JSON' },
  },
  handler: handle(start),
};
