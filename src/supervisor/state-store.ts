import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../system/atomic-write.js';

/** state.json: enough to keep ids monotonic and to re-identify generations after a supervisor restart. */
export type PersistedState = {
  version: 1;
  nextGenerationId: number;
  nextReloadId: number;
  [key: string]: unknown;
};

/** Reads state.json; a missing or unreadable file gives fresh counters (never a crash). */
export async function loadState(file: string): Promise<PersistedState> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<PersistedState>;
    const positive = (value: unknown): number => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 1);
    return { ...parsed, version: 1, nextGenerationId: positive(parsed.nextGenerationId), nextReloadId: positive(parsed.nextReloadId) };
  } catch {
    return { version: 1, nextGenerationId: 1, nextReloadId: 1 };
  }
}

/**
 * Writes state.json atomically on every change, without piling up writes: while one write runs, later changes
 * collapse into one more write of the newest state.
 */
export class StateStore {
  readonly #file: string;
  readonly #snapshot: () => PersistedState;
  readonly #onError: (error: unknown) => void;
  #writing: Promise<void> | undefined;
  #dirty = false;

  constructor(file: string, snapshot: () => PersistedState, onError: (error: unknown) => void) {
    this.#file = file;
    this.#snapshot = snapshot;
    this.#onError = onError;
  }

  /** Schedules a write of the current state. */
  changed(): void {
    this.#dirty = true;
    this.#writing ??= this.#flush();
  }

  /** Resolves once every change so far is on disk. */
  async settled(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  async #flush(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      try {
        await writeFileAtomic(this.#file, `${JSON.stringify(this.#snapshot(), null, 2)}\n`, 0o644);
      } catch (error) {
        this.#onError(error);
      }
    }
    this.#writing = undefined;
  }
}
