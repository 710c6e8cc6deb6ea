/**
 * One reload to run, standing for every request that joined it before it started. `skipVerify`: asked with
 * `reload --no-verify` (such requests join only each other, so no one else's reload loses its verify window).
 */
export type Batch<Mode extends string, Trigger extends string> = { mode: Mode; triggers: Trigger[]; skipVerify?: boolean };

type Pending<Mode extends string, Trigger extends string, Result> = Batch<Mode, Trigger> & {
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
  promise: Promise<Result>;
};

/**
 * Runs one reload at a time. A request made while one runs joins a pending batch of the same mode (or starts
 * one), so any number of requests during a reload cost exactly one follow-up reload, and every caller gets the
 * result of the first reload that started after its request.
 */
export class ReloadQueue<Mode extends string, Trigger extends string, Result> {
  readonly #run: (batch: Batch<Mode, Trigger>) => Promise<Result>;
  readonly #pending: Array<Pending<Mode, Trigger, Result>> = [];
  #running: Promise<void> | undefined;
  #closed: Error | undefined;

  constructor(run: (batch: Batch<Mode, Trigger>) => Promise<Result>) {
    this.#run = run;
  }

  /** Queues a reload of `mode`; resolves with the result of the reload that includes this request. */
  request(mode: Mode, trigger: Trigger, skipVerify = false): Promise<Result> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const joined = this.#pending.find((batch) => batch.mode === mode && (batch.skipVerify ?? false) === skipVerify);
    if (joined !== undefined) {
      joined.triggers.push(trigger);
      return joined.promise;
    }
    let resolve!: (result: Result) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<Result>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#pending.push({ mode, triggers: [trigger], ...(skipVerify ? { skipVerify } : {}), resolve, reject, promise });
    if (this.#running === undefined) this.#running = this.#drain();
    return promise;
  }

  /** Resolves once no reload runs or waits (at once when idle). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Refuses new requests, fails the waiting ones with `error`, and waits for the running reload to end. */
  async close(error: Error): Promise<void> {
    this.#closed = error;
    for (const batch of this.#pending.splice(0)) batch.reject(error);
    await this.#running;
  }

  async #drain(): Promise<void> {
    for (let batch = this.#pending.shift(); batch !== undefined; batch = this.#pending.shift()) {
      try {
        batch.resolve(await this.#run(batch));
      } catch (error) {
        batch.reject(error);
      }
    }
    this.#running = undefined;
  }
}
