import { createHash } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** What a set of files contains now: a digest per readable file, the ones that are missing, and which are directories. */
export type Snapshot = { digests: Map<string, string>; missing: string[]; directories?: Set<string> };

/**
 * Digests of files, remembered by what stat says of them (device, inode, size, mtime and ctime, as git's index does;
 * the times as milliseconds with their sub-millisecond fraction, far finer than the kernel's tick): a file whose stat is unchanged is not read again. A reload of a configuration with a thousand
 * certificates then costs a thousand stats instead of a thousand reads and hashes (bench: CPU per reload).
 */
export class DigestCache {
  readonly #entries = new Map<string, { key: string; digest: string }>();

  /** The digest for `file` if its stat is the one it was computed for. */
  get(file: string, stats: Stats): string | undefined {
    const entry = this.#entries.get(file);
    return entry !== undefined && entry.key === statKey(stats) ? entry.digest : undefined;
  }

  set(file: string, stats: Stats, digest: string): void {
    this.#entries.set(file, { key: statKey(stats), digest });
  }

  /** Forgets files no longer asked about (the next snapshot's set). */
  keepOnly(files: Iterable<string>): void {
    const keep = new Set(files);
    for (const file of this.#entries.keys()) if (!keep.has(file)) this.#entries.delete(file);
  }
}

/** How old a file's timestamps must be before its digest is remembered. */
const SETTLED_MS = 1000;

function settled(stats: Stats): boolean {
  const now = Date.now();
  return now - stats.mtimeMs >= SETTLED_MS && now - stats.ctimeMs >= SETTLED_MS;
}

function statKey(stats: Stats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
}

/**
 * Digests every file (through symlinks, as haproxy does); with a cache, only files whose stat changed are read. A
 * directory is not content: it is listed in `directories` (a `crt` directory's files are listed on their own).
 */
export async function snapshot(files: string[], cache?: DigestCache): Promise<Snapshot> {
  const digests = new Map<string, string>();
  const missing: string[] = [];
  const directories = new Set<string>();
  const toRead: Array<[string, Stats]> = [];
  // Stats first, synchronously (microseconds each); only files whose stat changed are read, in parallel.
  for (const file of files) {
    const stats = statOf(file);
    if (stats === undefined) missing.push(file);
    else if (stats.isDirectory()) {
      directories.add(file);
      missing.push(file);
    } else {
      const known = cache?.get(file, stats);
      if (known === undefined) toRead.push([file, stats]);
      else digests.set(file, known);
    }
  }
  await Promise.all(
    toRead.map(async ([file, stats]) => {
      try {
        const digest = createHash('sha256').update(await readFile(file)).digest('hex');
        digests.set(file, digest);
        // Kept only if the file did not change while it was read, and only once its timestamps are a second old: the
        // kernel stamps files with a coarse clock (a tick of several ms), so a second write of the same size within
        // one tick keeps mtime and ctime ("racy git"); a later write always gets a later stamp.
        if (cache !== undefined && settled(stats) && statKey(statSync(file)) === statKey(stats)) cache.set(file, stats, digest);
      } catch {
        missing.push(file);
      }
    }),
  );
  cache?.keepOnly(files);
  return { digests, missing: missing.sort(), directories };
}

/** The file's stat through links, or undefined when it cannot be had (missing, no permission, a dangling link). */
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** One digest for the whole snapshot (order-independent). */
export function fingerprint(snap: Snapshot): string {
  const hash = createHash('sha256');
  for (const file of [...snap.digests.keys()].sort()) hash.update(`${file}\0${snap.digests.get(file)}\n`);
  for (const file of snap.missing) hash.update(`${file}\0missing\n`);
  return hash.digest('hex');
}

/** Files whose content differs between two snapshots (added, removed or changed). */
export function changedFiles(before: Snapshot, after: Snapshot): string[] {
  const files = new Set([...before.digests.keys(), ...after.digests.keys(), ...before.missing, ...after.missing]);
  return [...files].filter((file) => before.digests.get(file) !== after.digests.get(file)).sort();
}
