import type { LoadedConfig } from './config-load.js';

/** A process variable the config seeds from the environment in `global`: `set-var proc.<name> env(<VAR>)<,conv…>`. */
export type SeededVar = { variable: string; envVar: string; converters: string; where: string };

/** How a configuration uses one environment variable. */
export type EnvUse = {
  /** `set-var proc.x env(NAME)…` lines in global: flippable at runtime with `set var proc.x`. */
  seeds: SeededVar[];
  /** Every other place: `env(NAME)` fetches outside those lines, `"${NAME}"` substitutions. Needs a new process. */
  elsewhere: string[];
};

const SEED = /^env\(([A-Za-z_][A-Za-z0-9_]*)\)((?:,[A-Za-z0-9_]+(?:\([^()]*\))?)*)$/;
const ENV_FETCH = /\benv\(([A-Za-z_][A-Za-z0-9_]*)\)/g;
const SUBSTITUTION = /\$\{([A-Za-z_][A-Za-z0-9_]*)[-}]/g;

/**
 * Where the configuration reads each environment variable (research §5): `env()` is sampled when the process
 * starts, so only a process variable seeded from it in `global` can be flipped in a running generation.
 */
export function envUses(config: LoadedConfig): Map<string, EnvUse> {
  const uses = new Map<string, EnvUse>();
  const use = (name: string): EnvUse => {
    let entry = uses.get(name);
    if (entry === undefined) uses.set(name, (entry = { seeds: [], elsewhere: [] }));
    return entry;
  };
  for (const line of config.lines) {
    const where = `${line.file}:${line.line}`;
    const [keyword, target, expression] = line.words;
    const seed = line.section === 'global' && keyword === 'set-var' && target?.startsWith('proc.') === true && line.words.length === 3 ? SEED.exec(expression ?? '') : null;
    if (seed !== null && target !== undefined) {
      use(seed[1] ?? '').seeds.push({ variable: target, envVar: seed[1] ?? '', converters: seed[2] ?? '', where });
      continue;
    }
    for (const word of line.words) {
      for (const match of word.matchAll(ENV_FETCH)) use(match[1] ?? '').elsewhere.push(where);
    }
  }
  // "${NAME}" is substituted when the file is parsed; the tokenizer keeps it inside quoted words.
  for (const line of config.lines) {
    for (const word of line.words) for (const match of word.matchAll(SUBSTITUTION)) use(match[1] ?? '').elsewhere.push(`${line.file}:${line.line}`);
  }
  return uses;
}

/** Values that can be written into a runtime `set var` expression as `str(<value>)` without quoting. */
const LIVE_VALUE = /^[A-Za-z0-9._:/@+-]{0,256}$/;

/**
 * The runtime commands that give running generations what a new process would compute for these values, or the
 * reason a new process is needed (a name used elsewhere than a seed, or a value that cannot be written inline).
 */
export function liveFlip(uses: Map<string, EnvUse>, values: Record<string, string | undefined>): { commands: string[] } | { reason: string } {
  const commands: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const use = uses.get(name);
    if (use === undefined) return { reason: `the configuration does not read ${name}` };
    if (use.elsewhere.length > 0) return { reason: `${name} is read where only a new process sees it (${use.elsewhere[0]})` };
    if (use.seeds.length === 0) return { reason: `no process variable is seeded from ${name}` };
    // The runtime API can set a variable but not unset one (no `unset var` in any version: capabilities.ts).
    if (value === undefined) return { reason: `unsetting ${name} needs a new process` };
    if (!LIVE_VALUE.test(value)) return { reason: `the value of ${name} cannot be set at runtime as it is` };
    for (const seed of use.seeds) commands.push(`set var ${seed.variable} str(${value})${seed.converters}`);
  }
  return { commands };
}
