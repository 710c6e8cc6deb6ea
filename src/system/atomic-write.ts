import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Flags that create a new file and never open through a symlink: a link planted at the name makes open fail. */
export const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A temp file beside `file`, with a name nobody can predict (created with CREATE_EXCLUSIVE). */
function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(9).toString('base64url')}.tmp`);
}

/** How a file is written: its mode, its group, and whether it must survive a power loss too. */
export type WriteOptions = { mode?: number; gid?: number | undefined; durable?: boolean };

/**
 * Writes `data` to `file` so readers see the old or the new content, never a part, and never writes through a link:
 * a temp file with an unpredictable name is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) with `mode`, written,
 * owned by group `gid` when given, fsynced unless `durable: false`, then renamed over `file` (rename replaces a link
 * at `file` itself, it does not follow it). The rename alone is atomic for every reader and survives a crash of this
 * process; the fsync only matters when the machine loses power, and costs a journal commit each time.
 */
export async function writeFileAtomic(file: string, data: string, options: WriteOptions = {}): Promise<void> {
  const { mode = 0o600, gid, durable = true } = options;
  const temp = tempPathFor(file);
  const handle = await open(temp, CREATE_EXCLUSIVE, mode);
  try {
    // The umask may have narrowed the mode at creation; set it exactly.
    await handle.chmod(mode);
    if (gid !== undefined) await handle.chown(-1, gid);
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/**
 * writeFileAtomic's twin for small files written on a reload's path (state.json): the same steps as plain system
 * calls. Six thread-pool round trips and their promises cost more CPU than writing a few KiB to the run dir.
 */
export function writeFileAtomicSync(file: string, data: string, options: WriteOptions = {}): void {
  const { mode = 0o600, gid, durable = true } = options;
  const temp = tempPathFor(file);
  const fd = openSync(temp, CREATE_EXCLUSIVE, mode);
  try {
    try {
      fchmodSync(fd, mode);
      if (gid !== undefined) fchownSync(fd, -1, gid);
      writeFileSync(fd, data);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed or never created.
    }
    throw error;
  }
}
