import path from 'node:path';
import { defaultRunDir, defaults } from './defaults.js';
import { parseDuration } from './duration.js';
import { OptionError } from '../errors.js';

/** What the CLI (or a test) may set; every field optional. */
export type PartialOptions = {
  config?: string[];
  haproxy?: string;
  runDir?: string;
  drainTimeout?: string | number;
  killGrace?: string | number;
  maxDraining?: number;
  readyTimeout?: string | number;
  logLevel?: string;
  socketGroup?: string;
  respawnBackoff?: string | number;
  respawnBackoffMax?: string | number;
  respawnResetAfter?: string | number;
  watch?: boolean;
  watchQuiet?: string | number;
  watchMaxWait?: string | number;
};

/** Options resolved once: absolute paths, durations in ms. */
export type Options = {
  config: string[];
  haproxy: string;
  runDir: string;
  drainTimeoutMs: number;
  killGraceMs: number;
  maxDraining: number;
  readyTimeoutMs: number;
  logLevel: string;
  socketGroup: string | undefined;
  respawnBackoffMs: number;
  respawnBackoffMaxMs: number;
  respawnResetAfterMs: number;
  watch: boolean;
  watchQuietMs: number;
  watchMaxWaitMs: number;
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function duration(option: string, value: string | number): number {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    throw new OptionError(`Expected \`--${option}\` to be a duration like 500ms, 30s or 30m, got \`${String(value)}\`.`);
  }
  return ms;
}

/** Only the run dir: what client commands (reload, status, stop…) need. */
export function resolveRunDir(runDir: string | undefined): string {
  return path.resolve(runDir ?? defaultRunDir());
}

/** Resolves the daemon's options once; throws OptionError with a fixing hint. */
export function resolveOptions(partial: PartialOptions): Options {
  const config = (partial.config ?? []).map((file) => path.resolve(file));
  if (config.length === 0) {
    throw new OptionError('Expected at least one `--config` (-f) file or directory, as for haproxy -f.');
  }
  const maxDraining = partial.maxDraining ?? defaults.maxDraining;
  if (!Number.isInteger(maxDraining) || maxDraining < 0) {
    throw new OptionError(`Expected \`--max-draining\` to be a whole number ≥ 0, got \`${String(maxDraining)}\`.`);
  }
  const logLevel = partial.logLevel ?? defaults.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new OptionError(`Expected \`--log-level\` to be one of ${LOG_LEVELS.join(', ')}, got \`${logLevel}\`.`);
  }
  return {
    config,
    haproxy: partial.haproxy ?? defaults.haproxy,
    runDir: resolveRunDir(partial.runDir),
    drainTimeoutMs: duration('drain-timeout', partial.drainTimeout ?? defaults.drainTimeout),
    killGraceMs: duration('kill-grace', partial.killGrace ?? defaults.killGrace),
    maxDraining,
    readyTimeoutMs: duration('ready-timeout', partial.readyTimeout ?? defaults.readyTimeout),
    logLevel,
    socketGroup: partial.socketGroup,
    respawnBackoffMs: duration('respawn-backoff', partial.respawnBackoff ?? defaults.respawnBackoff),
    respawnBackoffMaxMs: duration('respawn-backoff-max', partial.respawnBackoffMax ?? defaults.respawnBackoffMax),
    respawnResetAfterMs: duration('respawn-reset-after', partial.respawnResetAfter ?? defaults.respawnResetAfter),
    watch: partial.watch ?? defaults.watch,
    watchQuietMs: duration('watch-quiet', partial.watchQuiet ?? defaults.watchQuiet),
    watchMaxWaitMs: duration('watch-max-wait', partial.watchMaxWait ?? defaults.watchMaxWait),
  };
}
