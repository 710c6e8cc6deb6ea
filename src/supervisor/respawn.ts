import type { Logger } from 'pino';
import type { CrashLoopStatus, ReloadMode, ReloadResult, ReloadTrigger } from '../control/types.js';
import type { Generation } from './generation.js';

/** Backoff timing for replacing an active generation that exited unasked. */
export type RespawnOptions = { backoffMs: number; backoffMaxMs: number; resetAfterMs: number };

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

/** Where a respawn is asked for: the reload queue. */
export interface ReloadRequests {
  request(mode: ReloadMode, trigger: ReloadTrigger): Promise<ReloadResult>;
}

/**
 * Replaces the active generation after a crash, or after a reload left nothing serving: asks the reload queue for
 * a `respawn` once the policy's delay has passed (one attempt pending at a time).
 */
export class Respawner {
  readonly #policy: RespawnPolicy;
  readonly #reloads: ReloadRequests;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RespawnOptions, reloads: ReloadRequests, log: Logger) {
    this.#policy = new RespawnPolicy(options);
    this.#reloads = reloads;
    this.#log = log;
  }

  /** The active generation exited unasked. */
  crashed(generation: Generation): void {
    const { readyAt, exit } = generation.record;
    const served = readyAt === undefined ? undefined : Date.now() - Date.parse(readyAt);
    const how = exit?.signal ?? `code ${exit?.code}`;
    const delay = this.#policy.crashed(served, `generation ${generation.id} exited (${how}): ${generation.tail().slice(-3).join(' | ')}`);
    generation.log.error({ delayMs: delay, looping: this.#policy.looping }, 'active generation exited unasked: replacing it');
    this.#schedule(delay);
  }

  /** A reload finished; `nothingServes`: the supervisor runs and no generation is active after it. */
  reloaded(result: ReloadResult, nothingServes: boolean): void {
    if (result.ok && result.generation !== undefined) this.#policy.recovered();
    if (nothingServes) this.#schedule(this.#policy.failedAttempt(result.error?.message ?? 'no generation serving'));
  }

  /** Drops a pending attempt (stopping). */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  status(): CrashLoopStatus & { looping: boolean } {
    return { ...this.#policy.status(), looping: this.#policy.looping };
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reloads.request('respawn', 'crash').catch((error: unknown) => this.#log.debug({ err: error }, 'respawn not run'));
    }, delayMs);
  }
}
