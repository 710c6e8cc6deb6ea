/** Control-socket protocol: one JSON object per line each way (NDJSON); one reply per request, in order. */
import { checkEnvName, checkEnvValue } from '../config/env-names.js';
import type { EnvResult, ErrorCode, HistoryEntry, ReloadRequestMode, ReloadResult, Status, UpgradeResult } from './types.js';

/** Longest request line accepted; a longer one gets an error reply and the connection is closed. */
export const MAX_REQUEST_BYTES = 16 * 1024;

export type Request =
  | { cmd: 'ping' }
  | { cmd: 'status' }
  | { cmd: 'reload'; mode: ReloadRequestMode; verify?: boolean }
  | { cmd: 'stop'; hard: boolean; drainTimeoutMs?: number }
  | { cmd: 'env'; set: Record<string, string>; unset: string[] }
  | { cmd: 'history'; limit: number; id?: number }
  | { cmd: 'upgrade' };

/** The command names. */
export type Command = Request['cmd'];

/** What each command answers on success. */
export type Results = { ping: { pid: number }; status: Status; reload: ReloadResult; stop: Status; env: EnvResult; history: HistoryEntry[]; upgrade: UpgradeResult };

/** An error reply; a failed reload carries its whole result as `detail`. */
export type ErrorReply = { ok: false; error: { code: ErrorCode; message: string; detail?: ReloadResult } };

/** The reply to a request of command `C`. */
export type Reply<C extends Command = Command> = { ok: true; result: Results[C] } | ErrorReply;

/** The error reply for a reload that failed: its code and message, and the result itself. */
export function failedReloadReply(result: ReloadResult): ErrorReply {
  return { ok: false, error: { code: result.error?.code ?? 'failure', message: result.error?.message ?? 'reload failed', detail: result } };
}

const MODES: readonly string[] = ['reload', 'reload-socket', 'restart'];

/** Parses and validates one request line; returns an error reply for anything else. */
export function parseRequest(line: string): Request | ErrorReply {
  let value: unknown;
  // Garbage is answered without building a SyntaxError stack trace for each line (a flood of it costs memory).
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    value = JSON.parse(line);
  } catch {
    return badRequest('Expected one JSON object per line, like {"cmd":"status"}.');
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return badRequest('Expected a JSON object with a `cmd` field, like {"cmd":"status"}.');
  }
  const request = value as Record<string, unknown>;
  switch (request['cmd']) {
    case 'ping':
    case 'status':
    case 'upgrade':
      return { cmd: request['cmd'] };
    case 'reload': {
      const mode = request['mode'] ?? 'reload';
      if (typeof mode !== 'string' || !MODES.includes(mode)) {
        return badRequest(`Expected \`mode\` to be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}.`);
      }
      const verify = request['verify'];
      if (verify !== undefined && typeof verify !== 'boolean') return badRequest('Expected `verify` to be true or false (false skips the verify window for this reload).');
      return { cmd: 'reload', mode: mode as ReloadRequestMode, ...(verify === false ? { verify } : {}) };
    }
    case 'stop': {
      const drain = request['drainTimeoutMs'];
      if (drain !== undefined && (typeof drain !== 'number' || !Number.isFinite(drain) || drain < 0)) {
        return badRequest('Expected `drainTimeoutMs` to be a number of milliseconds ≥ 0.');
      }
      return { cmd: 'stop', hard: request['hard'] === true, ...(drain === undefined ? {} : { drainTimeoutMs: drain }) };
    }
    case 'env':
      return parseEnv(request);
    case 'history': {
      const limit = request['limit'] ?? 20;
      const id = request['id'];
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) return badRequest('Expected `limit` to be a whole number ≥ 1.');
      if (id !== undefined && (typeof id !== 'number' || !Number.isInteger(id))) return badRequest('Expected `id` to be a reload id.');
      return { cmd: 'history', limit, ...(id === undefined ? {} : { id }) };
    }
    default:
      return errorReply('unknown-command', `Unknown command ${JSON.stringify(request['cmd'])}; expected ping, status, reload, stop, env, history or upgrade.`);
  }
}

/** `{"cmd":"env","set":{"NAME":"value"},"unset":["NAME"]}`; with neither, it lists. Names and values are checked. */
function parseEnv(request: Record<string, unknown>): Request | ErrorReply {
  const set = request['set'] ?? {};
  const unset = request['unset'] ?? [];
  if (typeof set !== 'object' || set === null || Array.isArray(set) || !Object.values(set).every((value) => typeof value === 'string')) {
    return badRequest('Expected `set` to be an object of string values, like {"HAPROXY_MAINT":"1"}.');
  }
  if (!Array.isArray(unset) || !unset.every((name) => typeof name === 'string')) return badRequest('Expected `unset` to be an array of names.');
  try {
    for (const name of [...Object.keys(set), ...unset]) checkEnvName(name);
    for (const [name, value] of Object.entries(set as Record<string, string>)) checkEnvValue(name, value);
  } catch (error) {
    return badRequest((error as Error).message);
  }
  return { cmd: 'env', set: set as Record<string, string>, unset };
}

/** An error reply with `code`. */
export function errorReply(code: ErrorCode, message: string): ErrorReply {
  return { ok: false, error: { code, message } };
}

function badRequest(message: string): ErrorReply {
  return errorReply('bad-request', message);
}

/** Type guard for parseRequest's error branch. */
export function isErrorReply(value: Request | ErrorReply): value is ErrorReply {
  return 'ok' in value;
}
