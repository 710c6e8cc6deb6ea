import type { Generation } from './generation.js';

/** Timing of the escalation ladder for draining generations. */
export type DeadlineOptions = { killGraceMs: number; maxDraining: number };

/**
 * Enforces how long draining generations live, whatever the config says: SIGTERM at the deadline, SIGKILL
 * --kill-grace later. With more than --max-draining generations draining, the oldest are escalated at once.
 */
export class Deadlines {
  readonly #options: DeadlineOptions;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  constructor(options: DeadlineOptions) {
    this.#options = options;
  }

  /** Arms the deadline of a generation that just started draining (or was adopted draining). */
  track(generation: Generation): void {
    const deadline = generation.record.deadline;
    if (deadline === undefined || this.#timers.has(generation.id)) return;
    if (generation.record.escalation !== undefined) {
      this.#armKill(generation);
      return;
    }
    this.#arm(generation, Date.parse(deadline) - Date.now(), () => this.#term(generation));
  }

  /** Escalates the oldest draining generations beyond the cap. */
  enforceCap(draining: Generation[]): void {
    const waiting = draining.filter((generation) => generation.record.escalation === undefined);
    const excess = waiting.length - this.#options.maxDraining;
    for (const generation of waiting.slice(0, Math.max(0, excess))) {
      generation.log.warn({ maxDraining: this.#options.maxDraining }, 'too many draining generations: escalating the oldest');
      this.#term(generation);
    }
  }

  /** Moves a generation's deadline to now (used by a stop that must not wait longer). */
  expedite(generation: Generation, at: Date): void {
    const current = generation.record.deadline;
    if (current !== undefined && Date.parse(current) <= at.getTime()) return;
    generation.record.deadline = at.toISOString();
    this.forget(generation);
    this.track(generation);
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

  #term(generation: Generation): void {
    this.forget(generation);
    const outcome = generation.escalate('term');
    generation.log.warn({ outcome, deadline: generation.record.deadline }, 'drain deadline reached: SIGTERM');
    this.#armKill(generation);
  }

  #armKill(generation: Generation): void {
    this.#arm(generation, this.#options.killGraceMs, () => {
      this.forget(generation);
      const outcome = generation.escalate('kill');
      generation.log.error({ outcome }, 'still alive after SIGTERM: SIGKILL');
    });
  }

  #arm(generation: Generation, delayMs: number, action: () => void): void {
    clearTimeout(this.#timers.get(generation.id));
    this.#timers.set(generation.id, setTimeout(action, Math.max(0, delayMs)));
  }
}
