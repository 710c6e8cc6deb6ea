import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Flags that create a new file and never open through a symlink: a link planted at the name makes open fail. */
export const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Writes `data` to `file` so readers see the old or the new content, never a part, and never writes through a link:
 * a temp file with an unpredictable name is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW) with `mode`, written,
 * owned by group `gid` when given, fsynced, then renamed over `file` (rename replaces a link at `file` itself, it
 * does not follow it).
 */
export async function writeFileAtomic(file: string, data: string, mode = 0o600, gid?: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(9).toString('base64url')}.tmp`);
  const handle = await open(temp, CREATE_EXCLUSIVE, mode);
  try {
    // The umask may have narrowed the mode at creation; set it exactly.
    await handle.chmod(mode);
    if (gid !== undefined) await handle.chown(-1, gid);
    await handle.writeFile(data);
    await handle.sync();
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
