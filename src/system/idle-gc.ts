import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: ((options: object) => void) | undefined;

/** V8's full garbage collection, made callable without --expose-gc on the command line (once per process). */
function fullGc(): void {
  if (collect === undefined) {
    v8.setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as (options: object) => void;
  }
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/**
 * A full GC once the daemon goes quiet after work (a reload, a storm of them), at most once per `minIntervalMs`.
 * V8 collects the old generation only when it has grown enough, so each reload's garbage (parsed configs, results,
 * history lines) ratchets the heap and RSS up until then; a long-lived daemon has idle time to spend instead.
 * A GC of the daemon's ~12 MiB heap takes a few ms, always after the reload's result went out.
 */
export class IdleGc {
  readonly #quietMs: number;
  readonly #minIntervalMs: number;
  readonly #collect: () => void;
  #timer: NodeJS.Timeout | undefined;
  #lastAt = 0;

  /** `collect`: V8's full GC unless a test gives another. */
  constructor(options: { quietMs: number; minIntervalMs: number; collect?: () => void }) {
    this.#quietMs = options.quietMs;
    this.#minIntervalMs = options.minIntervalMs;
    this.#collect = options.collect ?? fullGc;
  }

  /** Work happened: collect once it has been quiet for `quietMs` (and `minIntervalMs` since the last time). */
  poke(): void {
    clearTimeout(this.#timer);
    const wait = Math.max(this.#quietMs, this.#lastAt + this.#minIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lastAt = Date.now();
      this.#collect();
    }, wait);
    this.#timer.unref();
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
