import type { CommandModule } from 'yargs';
import { handle } from '../command.js';
import { daemonOptions, type DaemonArgs } from '../shared-options.js';

export const runCommand: CommandModule<object, DaemonArgs> = {
  command: 'run',
  describe: 'Run the supervisor in the foreground (systemd, containers, the quick start)',
  builder: daemonOptions,
  handler: handle(async (args) => {
    // Loaded on demand: client commands stay fast by not importing the daemon.
    const { runDaemon } = await import('../run-daemon.js');
    return runDaemon(args);
  }),
};
