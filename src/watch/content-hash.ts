import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** What a set of files contains now: a digest per readable file, and the ones that are missing. */
export type Snapshot = { digests: Map<string, string>; missing: string[] };

/** Reads every file (through symlinks, as haproxy does) and digests it. */
export async function snapshot(files: string[]): Promise<Snapshot> {
  const digests = new Map<string, string>();
  const missing: string[] = [];
  await Promise.all(
    files.map(async (file) => {
      try {
        digests.set(file, createHash('sha256').update(await readFile(file)).digest('hex'));
      } catch {
        missing.push(file);
      }
    }),
  );
  return { digests, missing: missing.sort() };
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
