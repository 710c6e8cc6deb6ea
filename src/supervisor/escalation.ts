import { EventEmitter } from 'node:events';
import { crashPoint } from '../system/crash-point.js';
import type { SignalOutcome } from '../system/signals.js';
import type { Escalation, Generation } from './generation.js';

/** Timing of the ladder. */
export type LadderOptions = { killGraceMs: number; maxDraining: number };

/** A rung: SIGUSR1 (soft stop: unbind, finish, exit), SIGTERM (haproxy standalone cuts connections), SIGKILL. */
export type Step = 'soft' | 'term' | 'kill';

/**
 * Why a generation is being ended: `deadline` (draining past its deadline, or beyond --max-draining),
 * `terminate` (restart, stop --hard), `abandon` (a new generation that never became the serving one) or `hung`
 * (it stopped serving and a replacement now serves).
 */
export type Cause = 'deadline' | 'terminate' | 'abandon' | 'hung';

/** Every rung taken, for state.json, logs and metrics. */
export type LadderEvents = { step: [generation: Generation, step: Step, cause: Cause, outcome: SignalOutcome] };

const SIGNALS: Record<Step, NodeJS.Signals> = { soft: 'SIGUSR1', term: 'SIGTERM', kill: 'SIGKILL' };

/**
 * The one escalation ladder for ending generations: soft stop → SIGTERM → SIGKILL, each rung identity-checked,
 * each recorded on the generation (`escalation`) and emitted as a `step` event, whatever the cause.
 * - drain: SIGUSR1 now, SIGTERM at the deadline, SIGKILL --kill-grace later; beyond --max-draining the oldest
 *   draining generations get SIGTERM at once.
 * - terminate: SIGTERM now, SIGKILL --kill-grace later.
 * - abandon: SIGUSR1 now (it finishes what it may have accepted on a shared socket), SIGKILL --kill-grace later.
 * - hung: SIGTERM and SIGCONT now (a stopped process wakes up to exit), SIGKILL --kill-grace later (a process
 *   stuck in a loop never handles SIGTERM). A soft stop would change nothing: it does not answer.
 */
export class EscalationLadder extends EventEmitter<LadderEvents> {
  readonly #options: LadderOptions;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  constructor(options: LadderOptions) {
    super();
    this.#options = options;
  }

  /** Soft stop with a deadline; a generation already draining keeps its earlier deadline and its timers. */
  drain(generation: Generation, deadline: Date): SignalOutcome {
    const wasDraining = generation.state === 'draining';
    generation.markDraining(deadline);
    const outcome = this.#step(generation, 'soft', 'deadline', wasDraining);
    if (!this.#timers.has(generation.id)) this.resume(generation);
    return outcome;
  }

  /** SIGTERM now, SIGKILL --kill-grace later. */
  terminate(generation: Generation): void {
    this.#step(generation, 'term', 'terminate');
    this.#arm(generation, this.#options.killGraceMs, 'kill', 'terminate');
  }

  /** A generation that stopped serving: SIGTERM and SIGCONT now, SIGKILL --kill-grace later. */
  terminateHung(generation: Generation): void {
    this.forget(generation);
    this.#step(generation, 'term', 'hung');
    this.#arm(generation, this.#options.killGraceMs, 'kill', 'hung');
  }

  /** SIGUSR1 now, SIGKILL --kill-grace later. */
  abandon(generation: Generation): void {
    this.#step(generation, 'soft', 'abandon');
    this.#arm(generation, this.#options.killGraceMs, 'kill', 'abandon');
  }

  /** Arms the timers a generation's record calls for (a drain just started, or a generation was adopted). */
  resume(generation: Generation): void {
    const { deadline, escalation } = generation.record;
    if (escalation !== undefined) {
      this.#arm(generation, this.#options.killGraceMs, 'kill', escalation === 'terminate' || escalation === 'hung' ? escalation : 'deadline');
    } else if (deadline !== undefined) {
      this.#arm(generation, Date.parse(deadline) - Date.now(), 'term', 'deadline');
    }
  }

  /** Escalates the oldest draining generations beyond --max-draining. */
  enforceCap(draining: Generation[]): void {
    const waiting = draining.filter((generation) => generation.record.escalation === undefined);
    const excess = waiting.length - this.#options.maxDraining;
    for (const generation of waiting.slice(0, Math.max(0, excess))) {
      generation.log.warn({ maxDraining: this.#options.maxDraining }, 'too many draining generations: escalating the oldest');
      this.#climb(generation, 'term', 'deadline');
    }
  }

  /** Moves a draining generation's deadline to `at` when that is earlier (a stop that must not wait longer). */
  expedite(generation: Generation, at: Date): void {
    const current = generation.record.deadline;
    if (generation.record.escalation !== undefined || (current !== undefined && Date.parse(current) <= at.getTime())) return;
    generation.record.deadline = at.toISOString();
    this.resume(generation);
  }

  /** Stops the timers of a generation that exited. */
  forget(generation: Generation): void {
    clearTimeout(this.#timers.get(generation.id));
    this.#timers.delete(generation.id);
  }

  /** Stops every timer. */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Takes `step` now and arms the next rung. */
  #climb(generation: Generation, step: 'term' | 'kill', cause: Cause): void {
    this.forget(generation);
    this.#step(generation, step, cause);
    if (step === 'term') this.#arm(generation, this.#options.killGraceMs, 'kill', cause);
  }

  #arm(generation: Generation, delayMs: number, step: 'term' | 'kill', cause: Cause): void {
    clearTimeout(this.#timers.get(generation.id));
    this.#timers.set(
      generation.id,
      setTimeout(() => this.#climb(generation, step, cause), Math.max(0, delayMs)),
    );
  }

  /** The one place a rung is taken: record why, signal (identity-checked), log, emit. */
  #step(generation: Generation, step: Step, cause: Cause, repeated = false): SignalOutcome {
    if (step !== 'soft' || cause !== 'deadline') generation.record.escalation = escalationOf(generation.record.escalation, step, cause);
    const outcome = generation.signal(SIGNALS[step]);
    if (cause === 'hung' && step === 'term' && outcome === 'sent') generation.signal('SIGCONT');
    if (cause === 'deadline' && step !== 'soft') crashPoint('escalation');
    const fields = { signal: SIGNALS[step], cause, outcome, deadline: generation.record.deadline };
    if (outcome === 'recycled') generation.log.error(fields, 'pid now names another process: not signalled');
    else if (step === 'kill') generation.log.error(fields, cause === 'deadline' ? 'still alive after SIGTERM: SIGKILL' : `still alive ${this.#options.killGraceMs}ms later: SIGKILL`);
    else if (step === 'term' && cause === 'deadline') generation.log.warn(fields, 'drain deadline reached: SIGTERM');
    else generation.log[repeated ? 'debug' : 'info'](fields, step === 'soft' ? (cause === 'abandon' ? 'soft-stopping a generation that never served' : 'draining') : 'terminating');
    this.emit('step', generation, step, cause, outcome);
    return outcome;
  }
}

/** What a rung records: a termination stays a termination; at the deadline, the strongest signal sent. */
function escalationOf(current: Escalation | undefined, step: Step, cause: Cause): Escalation {
  if (cause === 'hung' || current === 'hung') return 'hung';
  if (cause !== 'deadline' || current === 'terminate') return 'terminate';
  return step === 'kill' ? 'kill' : 'term';
}
