import type { ReloadResult } from '../control/types.js';
import type { ReloadIds } from './reload.js';

/** Reload ids (monotonic across supervisor restarts, persisted in state.json) and the last results, for status. */
export class ReloadHistory implements ReloadIds {
  readonly #results: ReloadResult[] = [];
  readonly #size: number;
  #nextId: number;

  constructor(nextId: number, size: number) {
    this.#nextId = nextId;
    this.#size = size;
  }

  /** Continues the ids a previous supervisor recorded. */
  continueFrom(nextId: number): void {
    this.#nextId = nextId;
  }

  takeId(): number {
    return this.#nextId++;
  }

  /** The id the next reload gets. */
  get nextId(): number {
    return this.#nextId;
  }

  /** Keeps a finished reload's result; the oldest beyond the size are dropped. */
  record(result: ReloadResult): void {
    this.#results.push(result);
    if (this.#results.length > this.#size) this.#results.shift();
  }

  last(): ReloadResult | null {
    return this.#results.at(-1) ?? null;
  }

  /** The kept results, newest first. */
  newestFirst(): ReloadResult[] {
    return [...this.#results].reverse();
  }
}
