import type { ErrorCode, ReloadPhase } from '../errors.js';

/**
 * The wire format: what the daemon answers on the control socket and what `--json` prints. Stable, documented in
 * the README ("status --json", "Control socket"); fields may be added, never renamed.
 */

export type { ErrorCode, ReloadPhase };

/**
 * start: first generation; reload: socket transfer, else a legacy reload reported `hitless: false`;
 * reload-socket: socket transfer or fail; restart: terminate every generation, then start (drops connections);
 * respawn: start a generation when none is active (after a crash).
 */
export type ReloadMode = 'start' | 'reload' | 'reload-socket' | 'restart' | 'respawn';

/** The modes a client may ask for. */
export type ReloadRequestMode = Extract<ReloadMode, 'reload' | 'reload-socket' | 'restart'>;

/** Who asked for a reload. */
export type ReloadTrigger = 'cli' | 'signal' | 'start' | 'crash' | 'watch' | 'watchdog' | 'env';


/** What every caller of a reload learns. */
export type ReloadResult = {
  id: number;
  ok: boolean;
  mode: ReloadMode;
  triggers: ReloadTrigger[];
  /** True only when the new generation took the listening sockets over from the running one (-x). */
  hitless: boolean;
  startedAt: string;
  /** The daemon's whole path: reading the config, check and spawn→ready. */
  durationMs: number;
  generation?: { id: number; pid: number };
  /** Older generations told to finish (SIGUSR1) or terminated by this reload. */
  retired: Array<{ id: number; pid: number }>;
  warnings: string[];
  /** prepareMs: reading and parsing the config; checkMs: `haproxy -c` (restart only); readyMs: spawn → serving; verifyMs: the verify window. */
  timings: { prepareMs?: number; checkMs?: number; readyMs?: number; verifyMs?: number };
  error?: { code: ErrorCode; phase: ReloadPhase; message: string; lines: string[] };
};

/** A reload as the history keeps it (history.jsonl): the result plus what it read and what haproxy said. */
export type HistoryEntry = ReloadResult & {
  /** The configuration it read: content hash (sha256 of names and contents), its files, and what changed. */
  config?: { digest: string; files: string[]; changedFiles: string[] };
  haproxyVersion?: string;
  /** haproxy's own lines: the check's warnings, the new generation's output, or the failure's lines. */
  output: string[];
  /** Unified diff of the configuration against the previous successful reload (cut at 64 KiB). */
  diff?: string;
  /** In listings, which leave the diff out: its size. */
  diffBytes?: number;
};

/** Lifecycle of a generation: starting → active → draining → exited (or starting → exited). */
export type GenerationState = 'starting' | 'active' | 'draining' | 'exited';

/** Why a generation ended, recorded when it happened, never inferred later. */
export type ExitReason =
  | 'drained' // soft-stopped and left on its own
  | 'killed' // died while draining, unasked (a signal or an error exit the supervisor did not cause)
  | 'deadline-term' // draining past --drain-timeout: SIGTERM
  | 'deadline-kill' // still alive --kill-grace after SIGTERM: SIGKILL
  | 'crashed' // exited while active, unasked
  | 'failed-start' // exited or was killed before it proved it serves
  | 'terminated' // ended on request (restart, stop --hard)
  | 'hung'; // stopped serving (watchdog, or no answer to a socket transfer): terminated once a replacement served

/** How a generation ended. */
export type GenerationExit = { code: number | null; signal: string | null; reason: ExitReason; at: string };

/** What a live generation holds (status.ts measures it from /proc). */
export type GenerationUsage = {
  /** It still has listening sockets (a draining generation has unbound them). */
  listening: boolean;
  /** Established connections: clients (on the configuration's listening ports) and servers (to backends). */
  connections: { client: number; server: number };
  rssBytes: number;
};

/** One generation as `status` shows it (the socket path and start ticks stay internal). */
export type GenerationStatus = {
  id: number;
  pid: number;
  state: GenerationState;
  startedAt: string;
  readyAt?: string;
  drainingSince?: string;
  deadline?: string;
  exit?: GenerationExit;
  /** Set when it stopped answering: when and why (it is terminated once a replacement serves). */
  hung?: { at: string; reason: string };
  /** Live generations only: connections, listening, RSS. */
  usage?: GenerationUsage;
};

/** What status shows about crashes. */
export type CrashLoopStatus = { consecutiveCrashes: number; lastCrashAt?: string; nextAttemptAt?: string; lastError?: string };

/** What status shows about watching. */
export type WatchStatus = {
  enabled: boolean;
  files: string[];
  directories: string[];
  lastChange?: { at: string; files: string[] };
  lastError?: string;
  /** Changes that could not be loaded so far (missing or empty files, reloads that failed after a change). */
  errors?: number;
};

/** What an `env` request did: the variables set for haproxy, and how the change reached haproxy. */
export type EnvResult = {
  ok: boolean;
  /** live: flipped in the running generations (no new process); reload: a new generation; none: nothing changed. */
  applied: 'live' | 'reload' | 'none';
  changed: string[];
  /** The variables stored now (after a failed reload: the previous ones, restored). */
  env: Record<string, string>;
  /** For each variable, the process variables the config seeds from it (what a live flip sets). */
  seeded: Record<string, string[]>;
  /** Generations that took the change at runtime. */
  flipped: Array<{ id: number; pid: number }>;
  reload?: ReloadResult;
  warnings: string[];
};

/** The supervisor's own lifecycle. */
export type SupervisorState = 'starting' | 'running' | 'upgrading' | 'stopping';

/** What `upgrade` did: the supervisor that handed over, and the one that serves now. */
export type UpgradeResult = { ok: true; previous: { pid: number; version: string }; current: { pid: number; version: string } };

/** `status --json`. */
export type Status = {
  supervisor: {
    pid: number;
    version: string;
    startedAt: string;
    state: SupervisorState;
    runDir: string;
    config: string[];
    /** process.memoryUsage() in bytes: rss, heapTotal, heapUsed, external. */
    memory: { rss: number; heapTotal: number; heapUsed: number; external: number };
  };
  generations: GenerationStatus[];
  lastReload: ReloadResult | null;
  reloads: ReloadResult[];
  crashLoop: CrashLoopStatus & { looping: boolean };
  watch: WatchStatus;
  /** The variables set for haproxy (`env set`), which every new generation gets. */
  env: Record<string, string>;
  /** The keeper of the active generation's listening sockets, and what it holds; null when none runs. */
  keeper: KeeperStatus | null;
};

/** The socket keeper in `status`: its pid and the sockets it holds (`127.0.0.1:80 tcp`, `/run/x.sock unix`). */
export type KeeperStatus = { pid: number; sockets: string[] };
