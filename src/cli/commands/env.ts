import type { CommandModule } from 'yargs';
import { parseAssignments, checkEnvName } from '../../config/env-names.js';
import { resolveRunDir } from '../../config/options.js';
import { sendRequest } from '../../control/client.js';
import { ReloadFailedError } from '../../control/reload-failed.js';
import type { EnvResult } from '../../control/types.js';
import { OptionError } from '../../errors.js';
import { handle } from '../command.js';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { formatEnv, formatError, printError, printJson, printLine } from '../output.js';
import { clientOptions, type ClientArgs } from '../shared-options.js';

/** The maintenance flag's variable (the name seed 002 used; examples/maintenance/haproxy.cfg reads it). */
export const MAINT_VAR = 'HAPROXY_MAINT';

/** Sends a change (or a listing) and prints the result; a failed reload prints its failure and exits with its code. */
export async function requestEnv(args: ClientArgs, change: { set: Record<string, string>; unset: string[] }, print: (result: EnvResult) => string = formatEnv): Promise<number> {
  try {
    const result = await sendRequest(resolveRunDir(args.runDir), { cmd: 'env', ...change });
    if (args.json) printJson(result);
    else printLine(print(result));
    return ExitCode.ok;
  } catch (error) {
    if (args.json) printJson(error instanceof ReloadFailedError ? { ok: false, reload: error.result } : { ok: false, error: { message: (error as Error).message } });
    else printError(`${formatError(error)}${error instanceof ReloadFailedError ? '\nThe variables keep their previous values.' : ''}`);
    return exitCodeFor(error);
  }
}

export type EnvArgs = ClientArgs & { action: 'set' | 'unset' | 'list'; vars: string[] };

export const envCommand: CommandModule<object, EnvArgs> = {
  command: 'env <action> [vars..]',
  describe: 'Variables for haproxy: env set NAME=VALUE…, env unset NAME…, env list (flipped live or applied by a reload)',
  builder: {
    ...clientOptions,
    action: { choices: ['set', 'unset', 'list'], describe: 'set NAME=VALUE…, unset NAME…, or list' },
    vars: { type: 'string', array: true, default: [], describe: 'NAME=VALUE (set) or NAME (unset)' },
  },
  handler: handle(env),
};

/** `env set|unset|list`. */
export async function env(args: EnvArgs): Promise<number> {
  if (args.action === 'list') return requestEnv(args, { set: {}, unset: [] });
  if (args.vars.length === 0) throw new OptionError(`Expected at least one ${args.action === 'set' ? 'NAME=VALUE' : 'NAME'} after \`env ${args.action}\`.`);
  if (args.action === 'set') return requestEnv(args, { set: parseAssignments(args.vars), unset: [] });
  for (const name of args.vars) checkEnvName(name);
  return requestEnv(args, { set: {}, unset: args.vars });
}

export type MaintArgs = ClientArgs & { state: 'on' | 'off' | 'status' };

export const maintCommand: CommandModule<object, MaintArgs> = {
  command: 'maint <state>',
  describe: `Maintenance flag: ${MAINT_VAR}=1 (on) or 0 (off), flipped live when the config seeds a process variable from it`,
  builder: { ...clientOptions, state: { choices: ['on', 'off', 'status'], describe: 'on, off, or status' } },
  handler: handle(maint),
};

/** `maint on|off|status`. */
export function maint(args: MaintArgs): Promise<number> {
  if (args.state === 'status') return requestEnv(args, { set: {}, unset: [] }, formatMaint);
  return requestEnv(args, { set: { [MAINT_VAR]: args.state === 'on' ? '1' : '0' }, unset: [] });
}

function formatMaint(result: EnvResult): string {
  const value = result.env[MAINT_VAR];
  const on = value !== undefined && Number(value) > 0;
  const seeded = result.seeded[MAINT_VAR] ?? [];
  const how = seeded.length > 0 ? `flips live (${seeded.join(', ')})` : `the config seeds no process variable from ${MAINT_VAR}: changes need a reload (see examples/maintenance/)`;
  return `maintenance ${on ? 'ON' : 'off'} (${MAINT_VAR}=${value ?? 'unset'}); ${how}`;
}
