import { SOCKET_ENV } from './supervisor-socket.js';

/** haproxy's environment: ours minus NOTIFY_SOCKET (only the supervisor talks to systemd), plus its socket. */
export function haproxyEnv(socket: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, [SOCKET_ENV]: socket };
  delete env['NOTIFY_SOCKET'];
  return env;
}
