import type { Generation, GenerationRecord } from './generation.js';

/** Every generation the supervisor knows: live ones, and the last `historySize` that exited. */
export class Registry {
  readonly #live = new Map<number, Generation>();
  readonly #finished: GenerationRecord[] = [];
  readonly #historySize: number;
  #nextId: number;

  constructor(nextId: number, historySize: number) {
    this.#nextId = nextId;
    this.#historySize = historySize;
  }

  /** The id the next generation gets; monotonic across supervisor restarts (persisted in state.json). */
  takeId(): number {
    return this.#nextId++;
  }

  get nextId(): number {
    return this.#nextId;
  }

  add(generation: Generation): void {
    this.#live.set(generation.id, generation);
  }

  /** Moves an exited generation to the history. */
  retire(generation: Generation): void {
    if (!this.#live.delete(generation.id)) return;
    this.#finished.push(generation.record);
    if (this.#finished.length > this.#historySize) this.#finished.shift();
  }

  /** The generation that serves new connections, if any. */
  active(): Generation | undefined {
    return this.live().find((generation) => generation.state === 'active');
  }

  /** Generations not yet exited, oldest first. */
  live(): Generation[] {
    return [...this.#live.values()].sort((a, b) => a.id - b.id);
  }

  draining(): Generation[] {
    return this.live().filter((generation) => generation.state === 'draining');
  }

  /** Records of live generations then finished ones, newest first. */
  records(): GenerationRecord[] {
    const live = this.live().map((generation) => generation.record);
    return [...live, ...this.#finished].sort((a, b) => b.id - a.id);
  }
}
