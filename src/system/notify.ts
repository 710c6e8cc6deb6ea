import { spawn, type ChildProcess } from 'node:child_process';

/**
 * sd_notify for a Node process, which has no unix datagram sockets. A persistent python3 helper sends each line
 * it reads as one datagram to $NOTIFY_SOCKET; it lives as long as the supervisor, in the same cgroup, so systemd
 * can always attribute its messages (NotifyAccess=all). Without python3, `systemd-notify` per message (racy on
 * systemd < 254: it may exit before systemd reads the message).
 */
export type Notifier = { send(fields: Record<string, string>): void; close(): Promise<void>; /** Run by systemd (NOTIFY_SOCKET set). */ active: boolean };

const HELPER = `
import os, socket, sys
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    try:
        s.sendto(line.rstrip("\\n").replace("\\x1e", "\\n").encode(), addr)
    except OSError as error:
        print("notify:", error, file=sys.stderr, flush=True)
`;

/** A notifier for $NOTIFY_SOCKET, or a no-op when the supervisor is not run by systemd. */
export function createNotifier(env: NodeJS.ProcessEnv = process.env, onError: (message: string) => void = () => undefined): Notifier {
  const socket = env['NOTIFY_SOCKET'];
  if (socket === undefined || socket === '') return { send: () => undefined, close: () => Promise.resolve(), active: false };
  let helper: ChildProcess | undefined = spawn('python3', ['-u', '-c', HELPER], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...env } });
  helper.on('error', () => (helper = undefined)); // no python3: fall back below
  helper.stderr?.on('data', (chunk: Buffer) => onError(chunk.toString().trim()));
  helper.stdin?.on('error', () => undefined);
  return {
    active: true,
    send(fields) {
      // One datagram: fields separated by newlines (encoded as \x1e on the helper's line-based stdin).
      const message = Object.entries(fields).map(([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`);
      if (helper?.stdin?.writable === true && helper.exitCode === null) {
        helper.stdin.write(`${message.join('\x1e')}\n`);
        return;
      }
      const fallback = spawn('systemd-notify', message, { stdio: 'ignore', env: { ...env } });
      fallback.on('error', (error) => onError(`systemd-notify: ${error.message}`));
    },
    /** Ends the helper and waits (up to 2 s) until it has sent what it was given and exited. */
    async close() {
      const closing = helper;
      helper = undefined;
      if (closing === undefined || closing.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => closing.once('exit', () => resolve()));
      closing.stdin?.end();
      await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 2000).unref())]);
    },
  };
}

/** CLOCK_MONOTONIC in microseconds, as systemd wants in MONOTONIC_USEC (Type=notify-reload). */
export function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString();
}
