import type { Logger } from 'pino';
import type { ProcessIdentity } from '../system/proc.js';
import { signalIdentity, type SignalOutcome } from '../system/signals.js';
import type { ChildHandle, ProcessExit } from '../system/spawn.js';

/** Lifecycle of a generation: starting → active → draining → exited (or starting → exited). */
export type GenerationState = 'starting' | 'active' | 'draining' | 'exited';

/** Why a generation ended, recorded when it happened, never inferred later. */
export type ExitReason =
  | 'drained' // soft-stopped and left on its own
  | 'deadline-term' // draining past --drain-timeout: SIGTERM
  | 'deadline-kill' // still alive --kill-grace after SIGTERM: SIGKILL
  | 'crashed' // exited while active, unasked
  | 'failed-start' // exited or was killed before it proved it serves
  | 'terminated'; // ended on request (restart, stop --hard)

/** What the supervisor did to make a generation end. */
export type Escalation = 'term' | 'kill' | 'terminate';

/** The persisted, serializable part of a generation. */
export type GenerationRecord = {
  id: number;
  pid: number;
  startTime: number;
  startedAt: string;
  socket: string;
  state: GenerationState;
  readyAt?: string;
  drainingSince?: string;
  deadline?: string;
  escalation?: Escalation;
  /** Started by an earlier supervisor and taken over from state.json. */
  adopted?: boolean;
  exit?: { code: number | null; signal: string | null; reason: ExitReason; at: string };
};

/** One haproxy process the supervisor started, with its child handle. */
export class Generation {
  readonly record: GenerationRecord;
  readonly #child: ChildHandle;
  readonly log: Logger;
  /** Last lines haproxy wrote, for error reports. */
  readonly #tail: string[] = [];
  #onChange: () => void;

  constructor(id: number, socket: string, child: ChildHandle, log: Logger, onChange: () => void, adopted?: GenerationRecord) {
    this.#child = child;
    this.log = log;
    this.#onChange = onChange;
    this.record = adopted ?? {
      id,
      pid: child.pid,
      startTime: child.identity.startTime,
      startedAt: new Date().toISOString(),
      socket,
      state: 'starting',
    };
  }

  /** A generation left running by a previous supervisor, identified again from state.json. */
  static adopt(record: GenerationRecord, handle: ChildHandle, log: Logger, onChange: () => void): Generation {
    return new Generation(record.id, record.socket, handle, log, onChange, { ...record, adopted: true });
  }

  get id(): number {
    return this.record.id;
  }

  get pid(): number {
    return this.record.pid;
  }

  get state(): GenerationState {
    return this.record.state;
  }

  get identity(): ProcessIdentity {
    return { pid: this.record.pid, startTime: this.record.startTime };
  }

  /** Resolves when the process has exited and its record says how. */
  get exited(): Promise<ProcessExit> {
    return this.#child.exited;
  }

  /** Alive and not yet reaped (a reaped pid may already name another process). */
  isLive(): boolean {
    return this.record.state !== 'exited' && this.#child.isRunning();
  }

  /** Keeps the last lines of haproxy's output for error reports. */
  remember(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > 50) this.#tail.shift();
  }

  /** The last lines haproxy wrote. */
  tail(): string[] {
    return [...this.#tail];
  }

  /** starting → active. */
  markActive(): void {
    this.record.state = 'active';
    this.record.readyAt = new Date().toISOString();
    this.#onChange();
  }

  /** Sends a signal if this is still our live child with the recorded start time. */
  signal(signal: NodeJS.Signals): SignalOutcome {
    if (!this.#child.isRunning()) return 'gone';
    return signalIdentity(this.identity, signal);
  }

  /** Soft stop (SIGUSR1): haproxy unbinds, finishes its connections and exits; it must be gone by `deadline`. */
  softStop(deadline: Date): SignalOutcome {
    const outcome = this.signal('SIGUSR1');
    if (this.record.state !== 'draining' && this.record.state !== 'exited') {
      this.record.state = 'draining';
      this.record.drainingSince = new Date().toISOString();
      this.record.deadline = deadline.toISOString();
      this.#onChange();
    }
    return outcome;
  }

  /** SIGTERM (haproxy standalone does not catch it: connections are cut) or SIGKILL, with the reason recorded. */
  escalate(escalation: Escalation): SignalOutcome {
    this.record.escalation = escalation;
    this.#onChange();
    return this.signal(escalation === 'kill' ? 'SIGKILL' : 'SIGTERM');
  }

  /**
   * Ends a generation that never became the serving one: SIGUSR1, so it finishes whatever it may already have
   * accepted on a shared listening socket (soft-stopping the new holder leaves the old one serving), then SIGKILL
   * after `graceMs`. Recorded as failed-start.
   */
  abandon(graceMs: number): void {
    this.record.escalation = 'terminate';
    this.#onChange();
    this.signal('SIGUSR1');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    void this.exited.then(() => clearTimeout(timer));
  }

  /** Records the exit and how it came about. */
  markExited(exit: ProcessExit): ExitReason {
    const reason = exitReason(this.record);
    this.record.exit = { code: exit.code, signal: exit.signal, reason, at: new Date().toISOString() };
    this.record.state = 'exited';
    this.#onChange();
    return reason;
  }
}

function exitReason(record: GenerationRecord): ExitReason {
  if (record.escalation === 'terminate') return record.state === 'starting' ? 'failed-start' : 'terminated';
  if (record.state === 'starting') return 'failed-start';
  if (record.escalation === 'kill') return 'deadline-kill';
  if (record.escalation === 'term') return 'deadline-term';
  if (record.state === 'draining') return 'drained';
  return 'crashed';
}

/**
 * Hard stop of several generations: SIGTERM to each (recorded as terminated), SIGKILL after `graceMs` to any
 * still alive; resolves once all have exited. Used by `restart` and `stop --hard`.
 */
export async function terminate(generations: Generation[], graceMs: number): Promise<void> {
  for (const generation of generations) generation.escalate('terminate');
  const timer = setTimeout(() => generations.forEach((generation) => generation.signal('SIGKILL')), graceMs);
  await Promise.all(generations.map((generation) => generation.exited));
  clearTimeout(timer);
}
