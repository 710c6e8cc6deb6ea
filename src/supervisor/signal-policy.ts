import type { Logger } from 'pino';
import type { Supervisor } from './supervisor.js';

/** What the signal policy needs of `process` (injected so unit tests can emit fake signals). */
export type SignalSource = { on(signal: NodeJS.Signals, listener: () => void): unknown };

/** SIGHUP/SIGUSR2 → reload; SIGTERM/SIGINT → graceful stop; SIGQUIT → hard stop. */
export function installSignalPolicy(supervisor: Pick<Supervisor, 'reload' | 'stop'>, log: Logger, source: SignalSource = process): void {
  const reload = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'reload requested by signal');
    supervisor.reload('reload', 'signal').then(
      // The transaction logs its result ('reload succeeded' or 'reload failed', with the triggers): no second line at info.
      (result) => log.debug({ signal, reload: result.id, ok: result.ok }, 'signal reload finished'),
      (error: unknown) => log.warn({ signal, err: error }, 'signal reload not run'),
    );
  };
  const stop = (signal: NodeJS.Signals, hard: boolean): void => {
    log.info({ signal, hard }, 'stop requested by signal');
    supervisor.stop({ hard }).catch((error: unknown) => log.error({ err: error }, 'stop failed'));
  };
  source.on('SIGHUP', () => reload('SIGHUP'));
  source.on('SIGUSR2', () => reload('SIGUSR2'));
  source.on('SIGTERM', () => stop('SIGTERM', false));
  source.on('SIGINT', () => stop('SIGINT', false));
  source.on('SIGQUIT', () => stop('SIGQUIT', true));
}
