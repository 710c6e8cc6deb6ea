import type { HistoryEntry, ReloadResult } from '../control/types.js';
import type { RunDirAccess } from '../system/run-dir.js';
import { HistoryFile } from './history-file.js';
import type { ReloadDetails, ReloadRecords } from './reload.js';

/**
 * Reload ids (monotonic across supervisor restarts, persisted in state.json), the last results for status, and the
 * history on disk (history-file.ts): each result with the config's hash and files, what changed, the haproxy
 * version, haproxy's lines and the diff against the previous successful reload.
 */
export class ReloadHistory implements ReloadRecords {
  readonly #results: ReloadResult[] = [];
  readonly #size: number;
  readonly #file: HistoryFile | undefined;
  #nextId: number;

  /** `runDir` undefined: in memory only (tests). */
  constructor(nextId: number, size: number, disk?: { runDir: string; limit: number }) {
    this.#nextId = nextId;
    this.#size = size;
    this.#file = disk === undefined ? undefined : new HistoryFile(disk.runDir, disk.limit);
  }

  /** Continues the ids a previous supervisor recorded, and the history it left (the run dir is safe by now). */
  continueFrom(nextId: number, access: Pick<RunDirAccess, 'fileMode' | 'gid'>): void {
    this.#nextId = nextId;
    this.#file?.open(access);
  }

  takeId(): number {
    return this.#nextId++;
  }

  /** The id the next reload gets. */
  get nextId(): number {
    return this.#nextId;
  }

  /** Keeps a finished reload's result for status, and appends it with its details to the history on disk. */
  async record(result: ReloadResult, details: ReloadDetails): Promise<void> {
    this.#results.push(result);
    if (this.#results.length > this.#size) this.#results.shift();
    if (this.#file === undefined || (result.ok && result.generation === undefined)) return; // a respawn that had nothing to do
    const { config, changedFiles, output, haproxyVersion } = details;
    const changed = [...new Set([...changedFiles, ...this.#file.changedAgainstLast(config.texts)])];
    const diff = this.#file.diffAgainstLast(config.texts);
    const entry: HistoryEntry = {
      ...result,
      config: { digest: config.digest, files: config.files, changedFiles: changed.sort() },
      ...(haproxyVersion === undefined ? {} : { haproxyVersion }),
      output,
      ...(diff === undefined ? {} : { diff }),
    };
    await this.#file.append(entry, config.texts);
  }

  last(): ReloadResult | null {
    return this.#results.at(-1) ?? null;
  }

  /** The kept results, newest first. */
  newestFirst(): ReloadResult[] {
    return [...this.#results].reverse();
  }

  /** The history on disk, newest first (entries without their diff), or one entry with it. */
  entries(limit: number): HistoryEntry[] {
    return (this.#file?.entries(limit) ?? []).map(({ diff, ...entry }) => ({ ...entry, ...(diff === undefined ? {} : { diffBytes: Buffer.byteLength(diff) }) }));
  }

  entry(id: number): HistoryEntry | undefined {
    return this.#file?.entry(id);
  }

  /** The control socket's `history`: the last `limit` entries, or entry `id` (with its diff) when given. */
  query(query: { limit: number; id?: number }): HistoryEntry[] {
    if (query.id === undefined) return this.entries(query.limit);
    const entry = this.entry(query.id);
    return entry === undefined ? [] : [entry];
  }
}
