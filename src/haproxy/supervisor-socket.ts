import path from 'node:path';
import { writeFileAtomic } from '../system/atomic-write.js';

/** Environment variable naming the per-generation socket in the supervisor's config fragment. */
export const SOCKET_ENV = 'HAPROXY_SUPERVISOR_SOCKET';

/** sun_path is 108 bytes on Linux, including the terminating NUL; haproxy also binds `<path>.<pid>.tmp`. */
const MAX_SOCKET_PATH = 90;

/**
 * The config fragment appended after the user's files: one more `global` section with a stats socket whose path
 * comes from the environment, so each generation gets its own admin socket. It is what the supervisor asks
 * `show info` on to prove a generation serves, and what the next generation's `-x` takes the listeners from,
 * whatever the user's config says about stats sockets.
 */
export const FRAGMENT = `# Written by haproxy-supervisor; do not edit. A per-generation admin socket for readiness and socket transfer.
global
    stats socket "\${${SOCKET_ENV}}" mode 600 level admin expose-fd listeners
`;

/** Path of the fragment in the run dir. */
export function fragmentPath(runDir: string): string {
  return path.join(runDir, 'supervisor.cfg');
}

/** Path of generation `id`'s socket. */
export function generationSocketPath(runDir: string, id: number): string {
  return path.join(runDir, 'gen', `${id}.sock`);
}

/** Writes the fragment; throws when socket paths in this run dir would be too long for a unix socket. */
export async function writeFragment(runDir: string): Promise<string> {
  const probe = generationSocketPath(runDir, 99_999_999);
  if (Buffer.byteLength(probe) > MAX_SOCKET_PATH) {
    throw new Error(`The run dir ${runDir} is too long for unix socket paths (${probe}); choose a shorter \`--run-dir\`.`);
  }
  const file = fragmentPath(runDir);
  await writeFileAtomic(file, FRAGMENT);
  return file;
}
