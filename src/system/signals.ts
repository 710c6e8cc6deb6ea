import { isSameProcess, readState, type ProcessIdentity } from './proc.js';

/** What happened to a signal: sent, or not sent because the process is gone or its pid now names another process. */
export type SignalOutcome = 'sent' | 'gone' | 'recycled';

/** Sends `signal` only if `identity` still names the same process (start time checked just before kill). */
export function signalIdentity(identity: ProcessIdentity, signal: NodeJS.Signals): SignalOutcome {
  if (!isSameProcess(identity)) {
    // An exited process its parent has not reaped yet (a zombie) is gone too, whoever it was.
    return processExists(identity.pid) && readState(identity.pid) !== 'Z' ? 'recycled' : 'gone';
  }
  try {
    process.kill(identity.pid, signal);
    return 'sent';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    throw error;
  }
}

/** True when some process holds `pid` (whoever it is). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
