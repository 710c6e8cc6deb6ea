import { SOCKET_ENV } from './supervisor-socket.js';

/** The variables set for haproxy with `env set` (supervisor/env-store.ts). */
export type HaproxyVariables = { values(): Record<string, string> };

/**
 * haproxy's environment: ours minus NOTIFY_SOCKET (only the supervisor talks to systemd), plus the variables set
 * for haproxy, plus its socket.
 */
export function haproxyEnv(socket: string, variables?: HaproxyVariables, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...variables?.values(), [SOCKET_ENV]: socket };
  delete env['NOTIFY_SOCKET'];
  return env;
}
