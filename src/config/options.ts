import path from 'node:path';
import { OptionError } from '../errors.js';
import { defaultRunDir, defaults } from './defaults.js';
import { parseDuration } from './duration.js';

/**
 * How an option's value is given and resolved: `files` (repeatable paths → absolute), `path` (optional path →
 * absolute, with a computed default), `string`, `optional` (a string or nothing), `duration` (haproxy units → ms, resolved
 * as `<name>Ms`), `count` (whole number ≥ 0), `level` (a pino level), `boolean`.
 */
type Kind = 'files' | 'path' | 'string' | 'optional' | 'duration' | 'count' | 'level' | 'boolean';

type Spec = { kind: Kind; describe: string; alias?: string; default?: string | number | boolean };

/** Every option of the daemon (run, start) and of check, declared once: the CLI, PartialOptions and Options derive from it. */
export const OPTION_SPECS = {
  config: { kind: 'files', alias: 'f', describe: 'haproxy configuration file or directory (repeatable, as haproxy -f)' },
  haproxy: { kind: 'string', default: defaults.haproxy, describe: 'haproxy binary' },
  runDir: { kind: 'path', describe: 'Directory with supervisor.pid, control.sock and state.json (default /run/haproxy-supervisor as root)' },
  drainTimeout: { kind: 'duration', default: defaults.drainTimeout, describe: 'How long an old generation may drain before SIGTERM (haproxy units: 500ms, 10s, 30m, 1h)' },
  killGrace: { kind: 'duration', default: defaults.killGrace, describe: 'How long after SIGTERM before SIGKILL' },
  maxDraining: { kind: 'count', default: defaults.maxDraining, describe: 'Most draining generations at once; the oldest beyond it are escalated' },
  readyTimeout: { kind: 'duration', default: defaults.readyTimeout, describe: 'How long a new generation may take to serve before the reload fails' },
  socketGroup: { kind: 'optional', describe: 'Group allowed on the control socket (mode 0660 instead of 0600)' },
  logLevel: { kind: 'level', default: defaults.logLevel, describe: 'fatal, error, warn, info, debug, trace or silent' },
  respawnBackoff: { kind: 'duration', default: defaults.respawnBackoff, describe: 'After an attempt that did not serve, wait this long before the next (doubling); a crashed generation that served is replaced at once' },
  respawnBackoffMax: { kind: 'duration', default: defaults.respawnBackoffMax, describe: 'Longest wait between attempts that do not serve' },
  respawnResetAfter: { kind: 'duration', default: defaults.respawnResetAfter, describe: 'A generation that served this long without crashing ends a crash loop' },
  watchdogInterval: { kind: 'duration', default: defaults.watchdogInterval, describe: 'How often the active generation must answer `show info` (and how long it may take); 0 turns the watchdog off' },
  watchdogMisses: { kind: 'count', default: defaults.watchdogMisses, describe: 'Missed watchdog probes in a row after which the active generation is hung: replaced, then terminated' },
  watch: { kind: 'boolean', default: defaults.watch, describe: 'Reload when the config or a file it references changes (--no-watch: only on request)' },
  watchQuiet: { kind: 'duration', default: defaults.watchQuiet, describe: 'Changes must be quiet this long before a reload' },
  watchMaxWait: { kind: 'duration', default: defaults.watchMaxWait, describe: 'A stream of changes reloads at the latest this long after the first' },
  takeover: { kind: 'optional', describe: 'Stats socket (level admin, expose-fd listeners) of an haproxy this supervisor did not start: take its listeners over with no drop, then retire it (migration)' },
  metricsListen: { kind: 'optional', describe: 'host:port for Prometheus /metrics and the /healthz and /readyz probes (off without it), like 127.0.0.1:9101' },
  historyLimit: { kind: 'count', default: defaults.historyLimit, describe: 'Reloads kept in <run-dir>/history.jsonl before it rotates to history.1.jsonl (at most twice this many on disk)' },
  verifyWindow: {
    kind: 'duration',
    default: defaults.verifyWindow,
    describe: 'Before the old generation is let go, wait up to this long for the new one to pass its first health checks for every backend the old one reaches; roll back if it does not (0: off)',
  },
  verifyObserve: {
    kind: 'duration',
    default: defaults.verifyObserve,
    describe: 'During the verify window, compare the new and the running generation\'s share of 5xx answers for at least this long (0: not compared)',
  },
  startNice: {
    kind: 'count',
    default: defaults.startNice,
    describe: 'Nice value of a new generation while it starts beside one that serves (parsing, loading certificates), raised back once it serves; 0: off. Needs root (CAP_SYS_NICE)',
  },
  allowSharedPorts: {
    kind: 'boolean',
    default: defaults.allowSharedPorts,
    describe: 'Start even when another supervisor runs this config, or a haproxy that is not ours listens on its addresses (the fleets then split the traffic)',
  },
} as const satisfies Record<string, Spec>;

type Specs = typeof OPTION_SPECS;
type Given<K extends Kind> = K extends 'files' ? string[] : K extends 'duration' ? string | number : K extends 'count' ? number : K extends 'boolean' ? boolean : string;
type Resolved<K extends Kind> = K extends 'files' ? string[] : K extends 'duration' | 'count' ? number : K extends 'boolean' ? boolean : K extends 'optional' ? string | undefined : string;

/** What the CLI (or a test) may set; every field optional. */
export type PartialOptions = { [N in keyof Specs]?: Given<Specs[N]['kind']> };

/** Options resolved once: absolute paths, durations in ms (`drainTimeout` → `drainTimeoutMs`). */
export type Options = { [N in keyof Specs as Specs[N]['kind'] extends 'duration' ? `${N}Ms` : N]: Resolved<Specs[N]['kind']> };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `runDir` → `run-dir`: the CLI's name of an option. */
export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The variable that sets an option when it is not on the command line (yargs' `.env`): `run-dir` → HAPROXY_SUPERVISOR_RUN_DIR. */
export function optionEnvName(flag: string): string {
  return `${OPTION_ENV_PREFIX}_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export const OPTION_ENV_PREFIX = 'HAPROXY_SUPERVISOR';

/** Only the run dir: what client commands (reload, status, stop…) need. */
export function resolveRunDir(runDir: string | undefined): string {
  return path.resolve(runDir ?? defaultRunDir());
}

/** One option's value, checked and converted; the error names the option, the value and what was expected. */
function resolveOne(name: string, kind: Kind, value: string | number | boolean | string[] | undefined): unknown {
  const flag = `\`--${flagName(name)}\``;
  switch (kind) {
    case 'files': {
      const files = (Array.isArray(value) ? value : value === undefined ? [] : [String(value)]).map((file) => path.resolve(file));
      if (files.length === 0) throw new OptionError('Expected at least one `--config` (-f) file or directory, as for haproxy -f.');
      return files;
    }
    case 'path':
      return resolveRunDir(value === undefined ? undefined : String(value));
    case 'duration': {
      const ms = typeof value === 'number' ? value : parseDuration(String(value));
      if (ms === undefined || !Number.isFinite(ms) || ms < 0) throw new OptionError(`Expected ${flag} to be a duration like 500ms, 30s or 30m, got \`${String(value)}\`.`);
      return ms;
    }
    case 'count':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new OptionError(`Expected ${flag} to be a whole number ≥ 0, got \`${String(value)}\`.`);
      return value;
    case 'level':
      if (typeof value !== 'string' || !LOG_LEVELS.includes(value)) throw new OptionError(`Expected ${flag} to be one of ${LOG_LEVELS.join(', ')}, got \`${String(value)}\`.`);
      return value;
    case 'boolean':
      return value === true;
    case 'optional':
      return value === undefined ? undefined : String(value);
    case 'string':
      return String(value);
  }
}

/** Resolves the daemon's options once, each with its default; throws OptionError with a fixing hint. */
export function resolveOptions(partial: PartialOptions): Options {
  const resolved: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTION_SPECS) as Array<[keyof Specs, Spec]>) {
    const value = partial[name] ?? spec.default;
    resolved[spec.kind === 'duration' ? `${name}Ms` : name] = resolveOne(name, spec.kind, value);
  }
  // Every key of Options was set above, from the same table the type is derived from.
  return resolved as Options;
}
