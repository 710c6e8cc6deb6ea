import type { CommandModule } from 'yargs';
import { resolveRunDir } from '../../config/options.js';
import { sendRequest } from '../../control/client.js';
import type { ReloadRequestMode } from '../../control/types.js';
import { ReloadFailedError } from '../../control/reload-failed.js';
import { handle } from '../command.js';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { formatError, formatReload, printError, printJson, printLine } from '../output.js';
import { clientOptions, type ClientArgs } from '../shared-options.js';

/** Asks the daemon for a reload and waits for the result of the reload that includes this request. */
export async function requestReload(mode: ReloadRequestMode, args: ClientArgs & { verify?: boolean }): Promise<number> {
  try {
    const result = await sendRequest(resolveRunDir(args.runDir), { cmd: 'reload', mode, ...(args.verify === false ? { verify: false } : {}) });
    if (args.json) printJson(result);
    else printLine(formatReload(result));
    return ExitCode.ok;
  } catch (error) {
    if (args.json) printJson(error instanceof ReloadFailedError ? error.result : { ok: false, error: { message: (error as Error).message } });
    else printError(formatError(error));
    return exitCodeFor(error);
  }
}

/** The action of `reload`, `reload-socket` or `restart`. */
export function reloadAction(mode: ReloadRequestMode): (args: ClientArgs & { verify?: boolean }) => Promise<number> {
  return (args) => requestReload(mode, args);
}

function reloadCommand(mode: ReloadRequestMode, describe: string): CommandModule<object, ClientArgs & { verify?: boolean }> {
  const verify = { verify: { type: 'boolean' as const, default: true, describe: 'Verify the new generation before the old one is let go (--no-verify: not for this reload)' } };
  return { command: mode, describe, builder: mode === 'restart' ? clientOptions : { ...clientOptions, ...verify }, handler: handle(reloadAction(mode)) };
}

export const reloadCommands = [
  reloadCommand('reload', 'Seamless reload: transfer the listening sockets, else a legacy reload reported as not hitless'),
  reloadCommand('reload-socket', 'Reload with socket transfer, or fail with the reason'),
  reloadCommand('restart', 'Hard restart: terminate every generation (connections drop), then start a new one'),
];
