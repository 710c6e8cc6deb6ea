import type { Options as YargsOption } from 'yargs';
import { resolveRunDir } from '../config/options.js';
import { runDirPaths } from '../config/run-dir.js';
import { sendRequest } from '../control/client.js';
import { NotRunningError, OptionError } from '../errors.js';
import { daemonOptions } from './shared-options.js';

/** `-f` for commands that can take the configuration from the run dir instead (cleanup, check). */
export const optionalConfig: YargsOption = { ...daemonOptions['config'], demandOption: false, describe: `${String(daemonOptions['config']?.describe ?? '')}; default: the configuration the run dir knows` };

/**
 * The `-f` given, else the configuration the run dir knows: the running supervisor's, else the one its state.json
 * names. OptionError (exit 2, "pass -f") when neither says.
 */
export async function configOrKnown(args: { config?: string[] | undefined; runDir?: string | undefined }): Promise<string[]> {
  if (args.config !== undefined && args.config.length > 0) return args.config;
  const runDir = resolveRunDir(args.runDir);
  try {
    return (await sendRequest(runDir, { cmd: 'status' }, 10_000)).supervisor.config;
  } catch (error) {
    if (!(error instanceof NotRunningError)) throw error;
  }
  const { readPeerState } = await import('../supervisor/state-file.js');
  const config = readPeerState(runDirPaths(runDir).state).config;
  if (config.length === 0) throw new OptionError(`No supervisor runs in ${runDir} and its state.json names no configuration: pass \`-f\` with the config files.`);
  return config;
}
