import pino, { type Logger } from 'pino';

/**
 * The daemon's logger: pino JSON on stdout, pretty when stdout is a terminal (pino-pretty is loaded only then:
 * a service never pays for it). Written synchronously so the last lines reach stdout even when the process exits
 * right after them.
 */
export async function createLogger(level: string): Promise<Logger> {
  // No base pid: lines about a generation carry that haproxy's pid, and a JSON key must not appear twice.
  const options = { level, base: { supervisor: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (process.stdout.isTTY) {
    const { default: pretty } = await import('pino-pretty');
    return pino(options, pretty({ colorize: true, sync: true, ignore: 'hostname', translateTime: 'SYS:HH:MM:ss.l' }));
  }
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

export type { Logger };
