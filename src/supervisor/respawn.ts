/** Backoff timing for replacing an active generation that exited unasked. */
export type RespawnOptions = { backoffMs: number; backoffMaxMs: number; resetAfterMs: number };

/** What status shows about crashes. */
export type CrashLoopStatus = { consecutiveCrashes: number; lastCrashAt?: string; nextAttemptAt?: string; lastError?: string };

/**
 * When to replace a crashed generation: the first crash at once (an outage must be short), then with doubling
 * delays while replacements keep dying before they served --respawn-reset-after. A crash loop is visible in status.
 */
export class RespawnPolicy {
  readonly #options: RespawnOptions;
  #consecutive = 0;
  #lastCrashAt: number | undefined;
  #nextAttemptAt: number | undefined;
  #lastError: string | undefined;

  constructor(options: RespawnOptions) {
    this.#options = options;
  }

  /** Records a crash of a generation that served for `servedMs`; returns how long to wait before replacing it. */
  crashed(servedMs: number | undefined, error: string): number {
    if (servedMs !== undefined && servedMs >= this.#options.resetAfterMs) this.#consecutive = 0;
    this.#consecutive++;
    this.#lastCrashAt = Date.now();
    this.#lastError = error;
    const delay = this.#consecutive === 1 ? 0 : Math.min(this.#options.backoffMaxMs, this.#options.backoffMs * 2 ** (this.#consecutive - 2));
    this.#nextAttemptAt = Date.now() + delay;
    return delay;
  }

  /** A replacement failed to start: wait longer before the next one. */
  failedAttempt(error: string): number {
    return this.crashed(undefined, error);
  }

  /** A replacement serves. */
  recovered(): void {
    this.#nextAttemptAt = undefined;
  }

  /** True while crashes repeat faster than the reset window. */
  get looping(): boolean {
    return this.#consecutive > 1 && this.#lastCrashAt !== undefined && Date.now() - this.#lastCrashAt < this.#options.resetAfterMs * 2;
  }

  status(): CrashLoopStatus {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    return {
      consecutiveCrashes: this.#consecutive,
      lastCrashAt: iso(this.#lastCrashAt),
      nextAttemptAt: iso(this.#nextAttemptAt),
      lastError: this.#lastError,
    };
  }
}
