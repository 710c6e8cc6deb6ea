import type { Logger } from 'pino';
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
  readonly #log: Logger | undefined;
  #writing: Promise<void> = Promise.resolve();
  #nextId: number;

  /** `disk` undefined: in memory only (tests). */
  constructor(nextId: number, size: number, disk?: { runDir: string; limit: number; log: Logger }) {
    this.#nextId = nextId;
    this.#size = size;
    this.#file = disk === undefined ? undefined : new HistoryFile(disk.runDir, disk.limit);
    this.#log = disk?.log;
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

  /**
   * Keeps a finished reload's result for status at once, and appends it with its details to the history on disk
   * behind the earlier entries, off the reload's path: its caller never waits for a disk (or fails with a full one;
   * a write that fails is logged).
   */
  record(result: ReloadResult, details: ReloadDetails): void {
    this.#results.push(result);
    if (this.#results.length > this.#size) this.#results.shift();
    const file = this.#file;
    if (file === undefined || (result.ok && result.generation === undefined)) return; // a respawn that had nothing to do
    this.#writing = this.#writing
      .then(() => this.#append(file, result, details))
      .catch((error: unknown) => this.#log?.error({ err: error, reload: result.id }, 'cannot write the reload history'));
  }

  /** Resolves once every entry recorded so far is on disk (or failed). */
  async settled(): Promise<void> {
    await this.#writing;
  }

  async #append(file: HistoryFile, result: ReloadResult, details: ReloadDetails): Promise<void> {
    const { config, changedFiles, output } = details;
    const haproxyVersion = await details.haproxyVersion;
    const changed = [...new Set([...changedFiles, ...file.changedAgainstLast(config.texts)])];
    const diff = file.diffAgainstLast(config.texts);
    const entry: HistoryEntry = {
      ...result,
      config: { digest: config.digest, files: config.files, changedFiles: changed.sort() },
      ...(haproxyVersion === undefined ? {} : { haproxyVersion }),
      output,
      ...(diff === undefined ? {} : { diff }),
    };
    await file.append(entry, config.texts);
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
