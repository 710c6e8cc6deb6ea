import os from 'node:os';
import path from 'node:path';

/** Every default of haproxy-supervisor, in one place. */
export const defaults = {
  /** haproxy binary, looked up on PATH. */
  haproxy: 'haproxy',
  /** How long a draining generation may live before SIGTERM (seed 000's hard-stop-after value). */
  drainTimeout: '30m',
  /** How long after SIGTERM a generation gets SIGKILL. */
  killGrace: '10s',
  /** Most draining generations at once; beyond it the oldest is escalated first. */
  maxDraining: 20,
  /** How long a new generation may take to answer on its socket before it counts as failed. */
  readyTimeout: '60s',
  /** pino level. */
  logLevel: 'info',
  /** First delay before replacing an active generation that exited unasked; doubles per crash. */
  respawnBackoff: '1s',
  /** Longest delay between respawns of a crash-looping generation. */
  respawnBackoffMax: '30s',
  /** A generation that served this long resets the crash backoff. */
  respawnResetAfter: '10s',
  /** Reload when the config or a file it references changes. */
  watch: true,
  /** Changes must be quiet this long before a reload. */
  watchQuiet: '250ms',
  /** …but a stream of changes reloads at the latest this long after the first one. */
  watchMaxWait: '2s',
  /** Start even when another supervisor or a haproxy that is not ours already serves this configuration. */
  allowSharedPorts: false,
  /** How many finished generations and reloads status keeps. */
  historySize: 20,
} as const;

/** /run/haproxy-supervisor as root, else $XDG_RUNTIME_DIR/haproxy-supervisor or a per-user dir in tmp. */
export function defaultRunDir(): string {
  if (process.getuid?.() === 0) return '/run/haproxy-supervisor';
  const runtime = process.env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') return path.join(runtime, 'haproxy-supervisor');
  return path.join(os.tmpdir(), `haproxy-supervisor-${process.getuid?.() ?? 'user'}`);
}
