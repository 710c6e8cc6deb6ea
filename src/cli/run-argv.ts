import { flagName, OPTION_SPECS, optionEnvName, type PartialOptions } from '../config/options.js';

type Spec = (typeof OPTION_SPECS)[keyof typeof OPTION_SPECS];

/** CLI name (`drain-timeout`, and `f` for config) → option name and spec. */
const BY_FLAG = new Map<string, [string, Spec]>();
for (const [name, spec] of Object.entries(OPTION_SPECS) as Array<[string, Spec]>) {
  BY_FLAG.set(flagName(name), [name, spec]);
  if ('alias' in spec) BY_FLAG.set(spec.alias, [name, spec]);
}

/**
 * `run`'s argv as the daemon's options, without yargs: the daemon then never loads it (about 4 MiB of RSS for as
 * long as it runs). Only the plain forms are taken: `--name value`, `--name=value`, `-f file` (repeatable),
 * `--flag` and `--no-flag` for booleans, whole numbers for counts. Anything else (--help, an unknown or repeated
 * option, a positional, a count that is not a number) and any HAPROXY_SUPERVISOR_* variable that names an option
 * returns undefined: yargs then parses it, and explains what is wrong, exactly as before.
 */
export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv): PartialOptions | undefined {
  for (const flag of BY_FLAG.keys()) if (env[optionEnvName(flag)] !== undefined) return undefined;
  const options: Record<string, string | number | boolean | string[]> = {};
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? '';
    const match = /^(--?)([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (match === null) return undefined;
    const [, dashes, flag = '', inline] = match;
    const negated = dashes === '--' && flag.startsWith('no-') ? BY_FLAG.get(flag.slice(3)) : undefined;
    if (negated !== undefined) {
      if (negated[1].kind !== 'boolean' || inline !== undefined || negated[0] in options) return undefined;
      options[negated[0]] = false;
      continue;
    }
    const entry = BY_FLAG.get(flag);
    if (entry === undefined || (dashes === '-') !== (flag.length === 1)) return undefined;
    const [name, spec] = entry;
    if (spec.kind === 'boolean') {
      if (inline !== undefined || name in options) return undefined;
      options[name] = true;
      continue;
    }
    const value = inline ?? argv[++index];
    if (value === undefined || (inline === undefined && value.startsWith('-'))) return undefined;
    if (spec.kind === 'files') {
      options[name] = [...((options[name] as string[] | undefined) ?? []), value];
    } else if (name in options) {
      return undefined;
    } else if (spec.kind === 'count') {
      if (!/^\d+$/.test(value)) return undefined;
      options[name] = Number(value);
    } else {
      options[name] = value;
    }
  }
  return options;
}
