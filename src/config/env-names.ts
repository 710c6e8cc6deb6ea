import { OptionError } from '../errors.js';

/** A portable environment variable name (POSIX: letters, digits and underscores, not starting with a digit). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Variables the supervisor or haproxy set themselves, or that change how programs load (never the user's to set). */
const RESERVED = new Set(['PATH', 'NOTIFY_SOCKET', 'HOME', 'HAPROXY_LOCALPEER', 'HAPROXY_CFGFILES', 'HAPROXY_MWORKER', 'HAPROXY_CLI', 'HAPROXY_MASTER_CLI']);
const RESERVED_PREFIXES = ['HAPROXY_SUPERVISOR', 'HAPSUP_', 'LD_'];

/** Longest value accepted. */
export const MAX_ENV_VALUE = 4096;

/** Throws OptionError when `name` may not be set for haproxy, saying why. */
export function checkEnvName(name: string): void {
  if (!NAME.test(name)) {
    throw new OptionError(`Expected a variable name of letters, digits and underscores, not starting with a digit, got \`${name}\`.`);
  }
  if (RESERVED.has(name) || RESERVED_PREFIXES.some((prefix) => name.startsWith(prefix))) {
    throw new OptionError(`\`${name}\` is reserved (set by the supervisor or haproxy, or it changes how programs load); choose another name.`);
  }
}

/** Throws OptionError for a value that cannot be in an environment (NUL) or is too long. */
export function checkEnvValue(name: string, value: string): void {
  if (value.includes('\0')) throw new OptionError(`The value of \`${name}\` contains a NUL byte, which no environment can hold.`);
  if (Buffer.byteLength(value) > MAX_ENV_VALUE) throw new OptionError(`The value of \`${name}\` is longer than ${MAX_ENV_VALUE} bytes.`);
}

/** `NAME=VALUE` arguments → a map, each checked; throws OptionError for the first bad one. */
export function parseAssignments(assignments: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new OptionError(`Expected NAME=VALUE, got \`${assignment}\`.`);
    const name = assignment.slice(0, equals);
    const value = assignment.slice(equals + 1);
    checkEnvName(name);
    checkEnvValue(name, value);
    values[name] = value;
  }
  return values;
}
