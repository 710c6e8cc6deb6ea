/** Control-socket protocol: one JSON object per line each way (NDJSON); one reply per request, in order. */
import type { ErrorCode, ReloadRequestMode, ReloadResult, Status } from './types.js';

/** Longest request line accepted; a longer one gets an error reply and the connection is closed. */
export const MAX_REQUEST_BYTES = 16 * 1024;

export type Request =
  | { cmd: 'ping' }
  | { cmd: 'status' }
  | { cmd: 'reload'; mode: ReloadRequestMode }
  | { cmd: 'stop'; hard: boolean; drainTimeoutMs?: number };

/** The command names. */
export type Command = Request['cmd'];

/** What each command answers on success. */
export type Results = { ping: { pid: number }; status: Status; reload: ReloadResult; stop: Status };

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
      return { cmd: request['cmd'] };
    case 'reload': {
      const mode = request['mode'] ?? 'reload';
      if (typeof mode !== 'string' || !MODES.includes(mode)) {
        return badRequest(`Expected \`mode\` to be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}.`);
      }
      return { cmd: 'reload', mode: mode as ReloadRequestMode };
    }
    case 'stop': {
      const drain = request['drainTimeoutMs'];
      if (drain !== undefined && (typeof drain !== 'number' || !Number.isFinite(drain) || drain < 0)) {
        return badRequest('Expected `drainTimeoutMs` to be a number of milliseconds ≥ 0.');
      }
      return { cmd: 'stop', hard: request['hard'] === true, ...(drain === undefined ? {} : { drainTimeoutMs: drain }) };
    }
    default:
      return errorReply('unknown-command', `Unknown command ${JSON.stringify(request['cmd'])}; expected ping, status, reload or stop.`);
  }
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
