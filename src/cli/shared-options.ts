import type { Argv, Options as YargsOption } from 'yargs';
import { defaults } from '../config/defaults.js';
import type { PartialOptions } from '../config/options.js';

/** --run-dir and --json: all that client commands need. */
export const clientOptions = {
  'run-dir': { type: 'string', describe: 'Directory with supervisor.pid, control.sock and state.json (default /run/haproxy-supervisor as root)' },
  json: { type: 'boolean', default: false, describe: 'Print JSON' },
} satisfies Record<string, YargsOption>;

/** Options of the daemon (run, start) and of check. */
export const daemonOptions = {
  config: { alias: 'f', type: 'string', array: true, demandOption: true, describe: 'haproxy configuration file or directory (repeatable, as haproxy -f)' },
  haproxy: { type: 'string', default: defaults.haproxy, describe: 'haproxy binary' },
  'run-dir': clientOptions['run-dir'],
  'drain-timeout': { type: 'string', default: defaults.drainTimeout, describe: 'How long an old generation may drain before SIGTERM (haproxy units: 500ms, 10s, 30m, 1h)' },
  'kill-grace': { type: 'string', default: defaults.killGrace, describe: 'How long after SIGTERM before SIGKILL' },
  'max-draining': { type: 'number', default: defaults.maxDraining, describe: 'Most draining generations at once; the oldest beyond it are escalated' },
  'ready-timeout': { type: 'string', default: defaults.readyTimeout, describe: 'How long a new generation may take to serve before the reload fails' },
  'socket-group': { type: 'string', describe: 'Group allowed on the control socket (mode 0660 instead of 0600)' },
  'log-level': { type: 'string', default: defaults.logLevel, describe: 'fatal, error, warn, info, debug, trace or silent' },
  watch: { type: 'boolean', default: defaults.watch, describe: 'Reload when the config or a file it references changes (--no-watch: only on request)' },
  'watch-quiet': { type: 'string', default: defaults.watchQuiet, describe: 'Changes must be quiet this long before a reload' },
  'watch-max-wait': { type: 'string', default: defaults.watchMaxWait, describe: 'A stream of changes reloads at the latest this long after the first' },
} satisfies Record<string, YargsOption>;

/** Parsed daemon options as yargs gives them. */
export type DaemonArgs = {
  config: string[];
  haproxy: string;
  runDir?: string;
  drainTimeout: string;
  killGrace: string;
  maxDraining: number;
  readyTimeout: string;
  socketGroup?: string;
  logLevel: string;
  watch: boolean;
  watchQuiet: string;
  watchMaxWait: string;
};

/** yargs' parsed arguments → the partial options that config/ resolves. */
export function toPartialOptions(args: DaemonArgs): PartialOptions {
  return {
    config: args.config,
    haproxy: args.haproxy,
    runDir: args.runDir,
    drainTimeout: args.drainTimeout,
    killGrace: args.killGrace,
    maxDraining: args.maxDraining,
    readyTimeout: args.readyTimeout,
    socketGroup: args.socketGroup,
    logLevel: args.logLevel,
    watch: args.watch,
    watchQuiet: args.watchQuiet,
    watchMaxWait: args.watchMaxWait,
  };
}

export type { Argv };
