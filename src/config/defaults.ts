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
  /** A crashed generation that had served is replaced at once; attempts that do not serve wait this long, doubling. */
  respawnBackoff: '250ms',
  /** Longest wait between attempts that do not serve (a config or environment that cannot start). */
  respawnBackoffMax: '5s',
  /** A generation that served this long without crashing ends a crash loop (status). */
  respawnResetAfter: '10s',
  /** How often the watchdog asks the active generation to answer (`show info`), and how long it may take; 0: off. */
  watchdogInterval: '1s',
  /** Missed watchdog probes in a row after which the active generation is declared hung and replaced. */
  watchdogMisses: 3,
  /** Reload when the config or a file it references changes. */
  watch: true,
  /** Changes must be quiet this long before a reload. */
  watchQuiet: '250ms',
  /** …but a stream of changes reloads at the latest this long after the first one. */
  watchMaxWait: '2s',
  /** Start even when another supervisor or a haproxy that is not ours already serves this configuration. */
  allowSharedPorts: false,
  /** Reloads kept in history.jsonl before it rotates (at most twice this many on disk). */
  historyLimit: 500,
  /** Nice value of a new generation while it starts beside a serving one; raised back once it serves (0: off). */
  startNice: 10,
  /** The verify window: how long a new generation's first health checks may take before the old one is let go (0: off). */
  verifyWindow: '5s',
  /** With a verify window: compare 5xx answers of the new and the running generation for at least this long (0: not compared). */
  verifyObserve: '0s',
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
