import type { CommandModule } from 'yargs';
import type { CheckArgs } from '../check-config.js';
import { exitCodeFor } from '../exit-codes.js';
import { formatError, printError } from '../output.js';
import { daemonOptions } from '../shared-options.js';

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Run haproxy -c and report seamless-reload readiness, each problem with a one-line fix',
  builder: (yargs) => yargs.options({ ...daemonOptions, json: { type: 'boolean', default: false, describe: 'Print JSON' } }) as never,
  handler: async (args) => {
    try {
      const { check } = await import('../check-config.js');
      process.exitCode = await check(args);
    } catch (error) {
      printError(formatError(error));
      process.exitCode = exitCodeFor(error);
    }
  },
};
