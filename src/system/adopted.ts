import { isSameProcess, type ProcessIdentity } from './proc.js';
import type { ChildHandle, ProcessExit } from './spawn.js';

/** How often a process that is not our child is checked for exit (it cannot be waited on). */
const POLL_MS = 250;

/**
 * A handle on a process this supervisor did not start (left running by a previous supervisor): alive while its
 * /proc start time still matches, signalled only after that check, its exit seen by polling. Its exit status is
 * unknowable (only the parent can reap it), so `exited` reports code and signal as null.
 */
export function adoptProcess(identity: ProcessIdentity): ChildHandle {
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    const poll = (): void => {
      if (isSameProcess(identity)) {
        // Unref'd: an adopted process alone never keeps the daemon alive (a failed start must be able to exit).
        timer = setTimeout(poll, POLL_MS).unref();
        return;
      }
      resolve({ code: null, signal: null });
    };
    poll();
  });
  void exited.then(() => clearTimeout(timer));
  return {
    pid: identity.pid,
    identity: { pid: identity.pid, startTime: identity.startTime },
    exited,
    isRunning: () => isSameProcess(identity),
  };
}
