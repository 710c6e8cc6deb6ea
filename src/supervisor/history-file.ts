import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { HistoryEntry } from '../control/types.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import type { RunDirAccess } from '../system/run-dir.js';

/** Largest diff kept with an entry; a longer one is cut, and says so. */
export const MAX_DIFF_BYTES = 64 * 1024;

/** The configuration texts of the last successful reload, to diff the next one against. */
type ConfigTexts = Record<string, string>;

/**
 * The reload history on disk: one JSON line per reload in `<run-dir>/history.jsonl`, appended (O_APPEND, one write
 * per entry), so a crash can at most leave a partial last line, which readers skip and the next append terminates.
 * Not fsynced, as journald does not sync each log line: a crash of this process loses nothing (the write is in the
 * kernel), a power loss at most the last half minute's entries (the kernel's writeback delay), about reloads of
 * processes the power loss ended too; a journal commit per entry cost every reload CPU (bench: CPU per reload).
 * When the file holds `limit` entries it becomes `history.1.jsonl` (replacing the older one), so at most 2 × limit
 * entries are on disk. The last successful configuration's text is kept in `last-config.json` (atomic) for the next
 * entry's diff, across restarts.
 */
export class HistoryFile {
  readonly #file: string;
  readonly #rotated: string;
  readonly #lastConfig: string;
  readonly #limit: number;
  #access: Pick<RunDirAccess, 'fileMode' | 'gid'> = { fileMode: 0o600, gid: undefined };
  #count = 0;
  #previous: ConfigTexts | undefined;

  constructor(runDir: string, limit: number) {
    this.#file = path.join(runDir, 'history.jsonl');
    this.#rotated = path.join(runDir, 'history.1.jsonl');
    this.#lastConfig = path.join(runDir, 'last-config.json');
    this.#limit = Math.max(1, limit);
  }

  /** Reads what is on disk (the run dir is safe by now). */
  open(access: Pick<RunDirAccess, 'fileMode' | 'gid'>): void {
    this.#access = access;
    this.#count = lines(this.#file).length;
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.#lastConfig, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && Object.values(parsed).every((text) => typeof text === 'string')) this.#previous = parsed as ConfigTexts;
    } catch {
      // No successful reload recorded yet.
    }
  }

  /** Config files whose text differs from the last successful reload's ([] when none is recorded). */
  changedAgainstLast(texts: ConfigTexts): string[] {
    const previous = this.#previous;
    if (previous === undefined) return [];
    return [...new Set([...Object.keys(previous), ...Object.keys(texts)])].filter((file) => previous[file] !== texts[file]);
  }

  /** The unified diff of `texts` against the last successful reload's configuration (bounded), or undefined. */
  diffAgainstLast(texts: ConfigTexts): string | undefined {
    if (this.#previous === undefined) return undefined;
    const parts = this.changedAgainstLast(texts)
      .sort()
      .map((file) => createTwoFilesPatch(file, file, this.#previous?.[file] ?? '', texts[file] ?? '', 'previous successful reload', 'this reload'));
    const diff = parts.join('');
    if (Buffer.byteLength(diff) <= MAX_DIFF_BYTES) return diff;
    return `${Buffer.from(diff).subarray(0, MAX_DIFF_BYTES).toString('utf8')}\n… diff cut at ${MAX_DIFF_BYTES} bytes\n`;
  }

  /** Appends an entry; after a successful reload, `texts` become the base of the next diff. */
  async append(entry: HistoryEntry, texts: ConfigTexts | undefined): Promise<void> {
    if (this.#count >= this.#limit) {
      renameSync(this.#file, this.#rotated);
      this.#count = 0;
    }
    const fd = openSync(this.#file, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, this.#access.fileMode);
    try {
      // A partial last line (a crash mid-write) must not swallow this entry: end it first.
      const size = fstatSync(fd).size;
      const last = Buffer.alloc(1);
      const cut = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
      writeSync(fd, `${cut ? '\n' : ''}${JSON.stringify(entry)}\n`);
    } finally {
      closeSync(fd);
    }
    this.#count++;
    // Written only when the configuration text changed: most reloads (signals, certificate renewals) leave it alone.
    if (texts !== undefined && entry.ok && (this.#previous === undefined || this.changedAgainstLast(texts).length > 0)) {
      this.#previous = texts;
      await writeFileAtomic(this.#lastConfig, JSON.stringify(texts), { mode: this.#access.fileMode, gid: this.#access.gid });
    }
  }

  /** The last `limit` entries, newest first. */
  entries(limit: number): HistoryEntry[] {
    const all = [...lines(this.#rotated), ...lines(this.#file)];
    return all.slice(-limit).reverse();
  }

  /** One entry by reload id. */
  entry(id: number): HistoryEntry | undefined {
    return [...lines(this.#file), ...lines(this.#rotated)].find((entry) => entry.id === id);
  }
}

/** The valid entries of one file (a partial or corrupt line is skipped). */
function lines(file: string): HistoryEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const entries: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const value = JSON.parse(line) as HistoryEntry;
      if (typeof value === 'object' && value !== null && typeof value.id === 'number') entries.push(value);
    } catch {
      // A line cut by a crash.
    }
  }
  return entries;
}
