import type { CommandModule } from 'yargs';
import type { CheckArgs } from '../check-config.js';
import { handle } from '../command.js';
import { configOrKnown, optionalConfig } from '../known-config.js';
import { daemonOptions } from '../shared-options.js';

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Run haproxy -c and report seamless-reload readiness, each problem with a one-line fix',
  builder: { ...daemonOptions, config: optionalConfig, json: { type: 'boolean', default: false, describe: 'Print JSON' } },
  handler: handle(async (args) => {
    const { check } = await import('../check-config.js');
    return check({ ...args, config: await configOrKnown(args) });
  }),
};
