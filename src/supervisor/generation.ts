import type { Logger } from 'pino';
import type { ExitReason, GenerationState, GenerationStatus } from '../control/types.js';
import type { ProcessIdentity } from '../system/proc.js';
import { signalIdentity, type SignalOutcome } from '../system/signals.js';
import type { ChildHandle, ProcessExit } from '../system/spawn.js';

/**
 * What the supervisor did to make a generation end, recorded by the escalation ladder (escalation.ts):
 * term/kill at the drain deadline, terminate on request (restart, stop --hard) or for a start that failed, hung
 * for one that stopped serving.
 */
export type Escalation = 'term' | 'kill' | 'terminate' | 'hung';

/** The persisted, serializable part of a generation (state.json): the status fields plus what adoption needs. */
export type GenerationRecord = GenerationStatus & {
  startTime: number;
  socket: string;
  escalation?: Escalation;
  /** Started by an earlier supervisor and taken over from state.json. */
  adopted?: boolean;
};

/** How many of haproxy's last output lines a generation keeps for error reports. */
const TAIL_LINES = 50;

/**
 * One haproxy process: its record and the handle on the process (our child, or an adopted one). It changes state
 * only when the fleet (fleet.ts) says so, and signals only after checking the process's identity.
 */
export class Generation {
  readonly record: GenerationRecord;
  readonly log: Logger;
  readonly #child: ChildHandle;
  readonly #tail: string[] = [];

  constructor(record: GenerationRecord, child: ChildHandle, log: Logger) {
    this.record = record;
    this.#child = child;
    this.log = log;
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

  /** Resolves when the process has exited. */
  get exited(): Promise<ProcessExit> {
    return this.#child.exited;
  }

  /** Alive and not yet reaped (a reaped pid may already name another process). */
  isLive(): boolean {
    return this.record.state !== 'exited' && this.#child.isRunning();
  }

  /** Proxies this generation reported stopped (`Proxy X stopped (cumulated conns …)`), one line each as it drains. */
  proxiesStopped = 0;

  /** Keeps the last lines of haproxy's output for error reports. */
  remember(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > TAIL_LINES) this.#tail.shift();
  }

  /** The last lines haproxy wrote. */
  tail(): string[] {
    return [...this.#tail];
  }

  /** Sends a signal if this is still our live process with the recorded start time. */
  signal(signal: NodeJS.Signals): SignalOutcome {
    if (!this.#child.isRunning()) return 'gone';
    return signalIdentity(this.identity, signal);
  }

  /** starting → active. */
  markActive(): void {
    this.record.state = 'active';
    this.record.readyAt = new Date().toISOString();
  }

  /** → draining, to be gone by `deadline`; a generation already draining keeps its deadline. */
  markDraining(deadline: Date): void {
    if (this.record.state === 'draining' || this.record.state === 'exited') return;
    this.record.state = 'draining';
    this.record.drainingSince = new Date().toISOString();
    this.record.deadline = deadline.toISOString();
  }

  /** Records the exit and how it came about. */
  markExited(exit: ProcessExit): ExitReason {
    const reason = exitReason(this.record, exit);
    this.record.exit = { code: exit.code, signal: exit.signal, reason, at: new Date().toISOString() };
    this.record.state = 'exited';
    return reason;
  }
}

/** The public view of a generation record (the socket path, start ticks and escalation stay internal). */
export function publicGeneration(record: GenerationRecord): GenerationStatus {
  const { id, pid, state, startedAt, readyAt, drainingSince, deadline, exit, hung } = record;
  return { id, pid, state, startedAt, readyAt, drainingSince, deadline, exit, hung };
}

/**
 * Why a generation ended, from its state, what the supervisor did to it (both recorded as they happened) and how
 * it exited. A draining generation that exits 0 drained; one that dies otherwise, unasked, was killed (or crashed)
 * while draining. An adopted process's exit status is unknowable (code and signal null): it counts as drained.
 */
export function exitReason(record: Pick<GenerationRecord, 'state' | 'escalation'>, exit: Pick<ProcessExit, 'code' | 'signal'> = { code: 0, signal: null }): ExitReason {
  if (record.escalation === 'hung') return 'hung';
  if (record.escalation === 'terminate') return record.state === 'starting' ? 'failed-start' : 'terminated';
  if (record.state === 'starting') return 'failed-start';
  if (record.escalation === 'kill') return 'deadline-kill';
  if (record.escalation === 'term') return 'deadline-term';
  if (record.state === 'draining') return exit.signal === null && (exit.code === 0 || exit.code === null) ? 'drained' : 'killed';
  return 'crashed';
}
