/** How long changes must be quiet before acting, and the longest a stream of changes may delay it. */
export type SettleOptions = { quietMs: number; maxWaitMs: number };

/**
 * Calls `action` once changes settle: `quietMs` after the last poke, but no later than `maxWaitMs` after the
 * first one, so a steady stream of writes still gets acted on.
 */
export class Settle {
  readonly #options: SettleOptions;
  readonly #action: () => void;
  #quiet: NodeJS.Timeout | undefined;
  #max: NodeJS.Timeout | undefined;

  constructor(options: SettleOptions, action: () => void) {
    this.#options = options;
    this.#action = action;
  }

  poke(): void {
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#fire(), this.#options.quietMs);
    this.#max ??= setTimeout(() => this.#fire(), this.#options.maxWaitMs);
  }

  cancel(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#max);
    this.#quiet = undefined;
    this.#max = undefined;
  }

  #fire(): void {
    this.cancel();
    this.#action();
  }
}
