import type { CommandModule } from 'yargs';
import { resolveRunDir } from '../../config/options.js';
import { sendRequest } from '../../control/client.js';
import { OptionError } from '../../errors.js';
import { handle } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatHistory, formatHistoryEntry, printJson, printLine } from '../output.js';
import { clientOptions, type ClientArgs } from '../shared-options.js';

export type HistoryArgs = ClientArgs & { n: number; diff?: number };

export async function history(args: HistoryArgs): Promise<number> {
  const runDir = resolveRunDir(args.runDir);
  if (args.diff !== undefined) {
    const [entry] = await sendRequest(runDir, { cmd: 'history', limit: 1, id: args.diff });
    if (entry === undefined) throw new OptionError(`No reload #${args.diff} in the history (it keeps the last ones only: \`history\` lists them).`);
    if (args.json) printJson(entry);
    else printLine(formatHistoryEntry(entry));
    return ExitCode.ok;
  }
  const entries = await sendRequest(runDir, { cmd: 'history', limit: args.n });
  if (args.json) printJson(entries);
  else printLine(formatHistory(entries));
  return ExitCode.ok;
}

export const historyCommand: CommandModule<object, HistoryArgs> = {
  command: 'history',
  describe: 'Reload history (kept across restarts): results, triggers, changed files, config hash; --diff ID for one reload with its diff',
  builder: {
    ...clientOptions,
    n: { type: 'number', default: 20, describe: 'How many reloads, newest first' },
    diff: { type: 'number', describe: 'Show reload ID in full: haproxy’s lines and the config diff against the previous successful reload' },
  },
  handler: handle(history),
};
