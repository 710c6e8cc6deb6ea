import type { Logger } from 'pino';
import type { CrashLoopStatus, ReloadMode, ReloadResult, ReloadTrigger } from '../control/types.js';
import type { Generation } from './generation.js';

/** Backoff timing for starting a generation again after attempts that did not serve. */
export type RespawnOptions = { backoffMs: number; backoffMaxMs: number; resetAfterMs: number };

/**
 * When to start a replacement. A generation that had served is replaced at once, however often it happens: an
 * OOM killer's burst of kills must not turn into a long outage. Backoff applies only to attempts that do not
 * serve (a config or an environment that cannot start): it starts at --respawn-backoff, doubles, and is capped at
 * --respawn-backoff-max. Crashes and failed attempts count until a generation serves --respawn-reset-after
 * without crashing; status shows a crash loop while they repeat.
 */
export class RespawnPolicy {
  readonly #options: RespawnOptions;
  #consecutive = 0;
  #failedAttempts = 0;
  #lastCrashAt: number | undefined;
  #nextAttemptAt: number | undefined;
  #lastError: string | undefined;

  constructor(options: RespawnOptions) {
    this.#options = options;
  }

  /** Records a crash of a generation that had served for `servedMs`; returns how long to wait: always 0. */
  crashed(servedMs: number, error: string): number {
    if (servedMs >= this.#options.resetAfterMs) this.#consecutive = 0;
    this.#record(error);
    this.#nextAttemptAt = Date.now();
    return 0;
  }

  /** An attempt ended with nothing serving: wait longer before the next one. */
  failedAttempt(error: string): number {
    this.#record(error);
    const delay = Math.min(this.#options.backoffMaxMs, this.#options.backoffMs * 2 ** this.#failedAttempts);
    this.#failedAttempts++;
    this.#nextAttemptAt = Date.now() + delay;
    return delay;
  }

  /** A generation serves again: the next failed attempt starts the backoff from its start. */
  recovered(): void {
    this.#failedAttempts = 0;
    this.#nextAttemptAt = undefined;
  }

  /** True while crashes or failed attempts repeat faster than the reset window. */
  get looping(): boolean {
    return this.#consecutive > 1 && this.#lastCrashAt !== undefined && Date.now() - this.#lastCrashAt < this.#options.resetAfterMs * 2;
  }

  status(): CrashLoopStatus & { looping: boolean } {
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    return {
      consecutiveCrashes: this.#consecutive,
      lastCrashAt: iso(this.#lastCrashAt),
      nextAttemptAt: iso(this.#nextAttemptAt),
      lastError: this.#lastError,
      looping: this.looping,
    };
  }

  #record(error: string): void {
    this.#consecutive++;
    this.#lastCrashAt = Date.now();
    this.#lastError = error;
  }
}

/** Where replacements are asked for: the reload queue. */
export interface ReloadRequests {
  request(mode: ReloadMode, trigger: ReloadTrigger): Promise<ReloadResult>;
}

/**
 * Replaces the active generation after a crash (at once, asking the queue in the same tick the exit was seen), or
 * after a reload left nothing serving (with the policy's backoff; one attempt pending at a time).
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
    const served = readyAt === undefined ? 0 : Date.now() - Date.parse(readyAt);
    const how = exit?.signal ?? `code ${exit?.code}`;
    this.#policy.crashed(served, `generation ${generation.id} exited (${how}): ${generation.tail().slice(-3).join(' | ')}`);
    generation.log.error({ looping: this.#policy.looping }, 'active generation exited unasked: replacing it now');
    this.cancel();
    this.#request();
  }

  /** A reload finished; `nothingServes`: the supervisor runs and no generation is active after it. */
  reloaded(result: ReloadResult, nothingServes: boolean): void {
    if (!nothingServes) {
      if (result.ok && result.generation !== undefined) this.#policy.recovered();
      this.cancel(); // something serves: a pending attempt has nothing left to do
      return;
    }
    const lines = result.error?.lines.slice(-3) ?? [];
    const message = result.error?.message ?? 'no generation serving';
    this.#schedule(this.#policy.failedAttempt(lines.length === 0 ? message : `${message}: ${lines.join(' | ')}`));
  }

  /** Drops a pending attempt (stopping, or something serves again). */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  status(): CrashLoopStatus & { looping: boolean } {
    return this.#policy.status();
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#request();
    }, delayMs);
  }

  #request(): void {
    this.#reloads.request('respawn', 'crash').catch((error: unknown) => this.#log.debug({ err: error }, 'respawn not run'));
  }
}
