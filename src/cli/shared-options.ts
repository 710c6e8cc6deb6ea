import type { Options as YargsOption } from 'yargs';
import { flagName, OPTION_SPECS, type PartialOptions } from '../config/options.js';

/** --run-dir and --json: all that client commands need. */
export const clientOptions = {
  'run-dir': { type: 'string', describe: OPTION_SPECS.runDir.describe },
  json: { type: 'boolean', default: false, describe: 'Print JSON' },
} satisfies Record<string, YargsOption>;

/** What client commands get from yargs. */
export type ClientArgs = { runDir?: string; json: boolean };

const YARGS_TYPES = { files: 'string', path: 'string', string: 'string', optional: 'string', duration: 'string', count: 'number', level: 'string', boolean: 'boolean' } as const;

/** The daemon's options for yargs, derived from config/options.ts (OPTION_SPECS): kebab-case flags, types, defaults. */
export const daemonOptions: Record<string, YargsOption> = Object.fromEntries(
  Object.entries(OPTION_SPECS).map(([name, spec]) => {
    const option: YargsOption = { type: YARGS_TYPES[spec.kind], describe: spec.describe };
    if ('default' in spec) option.default = spec.default;
    if ('alias' in spec) option.alias = spec.alias;
    if (spec.kind === 'files') Object.assign(option, { array: true, demandOption: true });
    return [flagName(name), option];
  }),
);

/** Parsed daemon options as yargs gives them (camel-cased): a PartialOptions, resolved by config/. */
export type DaemonArgs = PartialOptions;
