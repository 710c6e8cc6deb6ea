import { writeFileAtomic } from '../system/atomic-write.js';
import { showServersState } from './runtime-api.js';

/** How long the running generation gets to dump its server state. */
const DUMP_TIMEOUT_MS = 2000;

/**
 * Writes the running generation's `show servers state` to the config's `server-state-file`, so the next
 * generation starts with the servers put in maintenance or drain and the weights changed at runtime (research §5).
 * It must be the last step before the spawn: anything changed after it is lost. Not fsynced: the next haproxy on this
 * machine reads it right away, and the fsync was on every reload's path.
 */
export async function saveServerState(socket: string, file: string): Promise<void> {
  await writeFileAtomic(file, await showServersState(socket, DUMP_TIMEOUT_MS), { durable: false });
}
