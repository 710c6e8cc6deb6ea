import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

/** Writes `data` to `file` so readers see the old or the new content, never a part: temp file, fsync, rename. */
export async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
  const handle = await open(temp, 'w', mode);
  try {
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
