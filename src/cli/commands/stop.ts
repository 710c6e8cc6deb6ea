import type { CommandModule } from 'yargs';
import { parseDuration } from '../../config/duration.js';
import { resolveRunDir } from '../../config/options.js';
import { sendRequest } from '../../control/client.js';
import { NotRunningError, OptionError } from '../../errors.js';
import { handle } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { clientOptions, type ClientArgs } from '../shared-options.js';

export type StopArgs = ClientArgs & { hard: boolean; drainTimeout?: string };

export async function stop(args: StopArgs): Promise<number> {
  const drainTimeoutMs = args.drainTimeout === undefined ? undefined : parseDuration(args.drainTimeout);
  if (args.drainTimeout !== undefined && drainTimeoutMs === undefined) {
    throw new OptionError(`Expected \`--drain-timeout\` to be a duration like 30s or 30m, got \`${args.drainTimeout}\`.`);
  }
  try {
    const status = await sendRequest(resolveRunDir(args.runDir), { cmd: 'stop', hard: args.hard, ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }) });
    if (args.json) printJson(status);
    else printLine('haproxy-supervisor stopped: every haproxy generation exited.');
    return ExitCode.ok;
  } catch (error) {
    // LSB: stopping a service that is not running succeeds.
    if (!(error instanceof NotRunningError)) throw error;
    if (args.json) printJson({ ok: true, running: false });
    else printLine('haproxy-supervisor is not running.');
    return ExitCode.ok;
  }
}

export const stopCommand: CommandModule<object, StopArgs> = {
  command: 'stop',
  describe: 'Graceful stop: soft-stop every generation, wait up to the drain deadline, escalate, exit',
  builder: {
    ...clientOptions,
    hard: { type: 'boolean', default: false, describe: 'Terminate every generation now (connections drop)' },
    'drain-timeout': { type: 'string', describe: 'Wait at most this long for draining before escalating (default: the daemon’s --drain-timeout)' },
  },
  handler: handle(stop),
};
