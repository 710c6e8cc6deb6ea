import type { CommandModule } from 'yargs';
import { daemonOptions, type DaemonArgs } from '../shared-options.js';

export const runCommand: CommandModule<object, DaemonArgs> = {
  command: 'run',
  describe: 'Run the supervisor in the foreground (systemd, containers, the quick start)',
  builder: (yargs) => yargs.options(daemonOptions) as never,
  handler: async (args) => {
    // Loaded on demand: client commands stay fast by not importing the daemon.
    const { runDaemon } = await import('../run-daemon.js');
    process.exitCode = await runDaemon(args);
  },
};
