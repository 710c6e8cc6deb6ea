import { isSameProcess, type ProcessIdentity } from './proc.js';
import { signalIdentity } from './signals.js';
import type { ProcessExit } from './spawn.js';

/** How often a process that is not our child is checked for exit (it cannot be waited on). */
const POLL_MS = 250;

/**
 * A handle on a process this supervisor did not start (left running by a previous supervisor): alive while its
 * /proc start time still matches, signalled only after that check, its exit seen by polling. Its exit status is
 * unknowable (only the parent can reap it), so `exited` reports code and signal as null.
 */
export function adoptProcess(identity: ProcessIdentity) {
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    const poll = (): void => {
      if (isSameProcess(identity)) {
        timer = setTimeout(poll, POLL_MS);
        return;
      }
      resolve({ code: null, signal: null });
    };
    poll();
  });
  void exited.then(() => clearTimeout(timer));
  return {
    pid: identity.pid,
    identity,
    exited,
    isRunning: () => isSameProcess(identity),
    kill: (signal: NodeJS.Signals) => signalIdentity(identity, signal) === 'sent',
  };
}
