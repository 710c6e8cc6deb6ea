// The full command line parser (yargs): every command, --help, usage errors, and the daemon (`run`, `start`).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { version } from '../version.js';
import { checkCommand } from './commands/check.js';
import { envCommand, maintCommand } from './commands/env.js';
import { historyCommand } from './commands/history.js';
import { cleanupCommand } from './commands/cleanup.js';
import { upgradeCommand } from './commands/upgrade.js';
import { reloadCommands } from './commands/reload.js';
import { runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { stopCommand } from './commands/stop.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { clientOptions, daemonOptions } from './shared-options.js';
import { OPTION_ENV_PREFIX as ENV_PREFIX, optionEnvName } from '../config/options.js';
import { formatError, printError } from './output.js';

/**
 * yargs' `.env(prefix)` turns every HAPROXY_SUPERVISOR_* variable into an option, and strict mode then rejects
 * the ones that are not (HAPROXY_SUPERVISOR_DEFAULTS of the init script, or anything a user exported). Only the
 * variables that name a real option stay visible to it.
 */
function keepOnlyOptionVariables(): void {
  const names = [...Object.keys(daemonOptions), ...Object.keys(clientOptions), 'log-file', 'hard', 'watch', 'interval', 'dry-run', 'all'];
  const known = new Set(names.map(optionEnvName));
  for (const key of Object.keys(process.env)) {
    if (key.startsWith(`${ENV_PREFIX}_`) && !known.has(key)) delete process.env[key];
  }
}

keepOnlyOptionVariables();

/** Maps argv to a command; every option can also come from HAPROXY_SUPERVISOR_* (e.g. HAPROXY_SUPERVISOR_RUN_DIR). */
const cli = yargs(hideBin(process.argv))
  .scriptName('haproxy-supervisor')
  .env(ENV_PREFIX)
  .command(runCommand)
  .command(startCommand)
  .command(reloadCommands[0]!)
  .command(reloadCommands[1]!)
  .command(reloadCommands[2]!)
  .command(stopCommand)
  .command(statusCommand)
  .command(checkCommand)
  .command(envCommand)
  .command(maintCommand)
  .command(historyCommand)
  .command(cleanupCommand)
  .command(upgradeCommand)
  .completion('completion', 'Print a bash/zsh completion script (haproxy-supervisor completion >> ~/.bashrc)')
  .demandCommand(1, 'Name a command: run, start, reload, reload-socket, restart, stop, status, check, env, maint, history, cleanup or upgrade.')
  .strict()
  .version(version)
  .help()
  .alias('h', 'help')
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((message, error) => {
    if (error !== undefined && error !== null) {
      printError(formatError(error));
      process.exit(exitCodeFor(error));
    }
    printError(`${message}\nRun with --help for usage.`);
    process.exit(ExitCode.usage);
  });

try {
  await cli.parseAsync();
} catch (error) {
  printError(formatError(error));
  process.exitCode = exitCodeFor(error);
}
