import type { CommandModule } from 'yargs';
import { resolveRunDir } from '../../config/options.js';
import { sendRequest } from '../../control/client.js';
import { handle } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { clientOptions, type ClientArgs } from '../shared-options.js';

export async function upgrade(args: ClientArgs): Promise<number> {
  const result = await sendRequest(resolveRunDir(args.runDir), { cmd: 'upgrade' });
  if (args.json) printJson(result);
  else printLine(`haproxy-supervisor ${result.previous.version} (pid ${result.previous.pid}) handed over to ${result.current.version} (pid ${result.current.pid}); haproxy was not touched.`);
  return ExitCode.ok;
}

export const upgradeCommand: CommandModule<object, ClientArgs> = {
  command: 'upgrade',
  describe: 'Hand over to the supervisor binary installed now (after npm install -g), without touching haproxy',
  builder: clientOptions,
  handler: handle(upgrade),
};
