import type { Logger } from 'pino';
import { defaults } from '../config/defaults.js';
import type { Options } from '../config/options.js';
import { runDirPaths } from '../config/run-dir.js';
import type { ReloadResult, ReloadMode, ReloadTrigger, Status } from '../control/types.js';
import { configChecker } from '../haproxy/check.js';
import { fragmentPath } from '../haproxy/supervisor-socket.js';
import { ConfigWatcher } from '../watch/config-watcher.js';
import { EnvChanger } from './env-change.js';
import { EnvStore } from './env-store.js';
import { Fleet } from './fleet.js';
import { Liveness } from './liveness.js';
import { ReloadHistory } from './reload-history.js';
import type { ReloadQueue } from './reload-queue.js';
import { SocketKeeper } from './listener-keeper.js';
import { ReloadTransaction } from './reload.js';
import { publicGenerations } from './usage.js';

/** The daemon's parts, wired to each other; supervisor.ts owns their lifecycle and what follows each reload. */
export type DaemonParts = {
  /** Every live haproxy generation. */
  fleet: Fleet;
  /** Reload ids and the last results. */
  history: ReloadHistory;
  transaction: ReloadTransaction;
  /** Crash respawn and the watchdog. */
  liveness: Liveness;
  watcher: ConfigWatcher | undefined;
  /** The variables set for haproxy, and changes to them. */
  env: EnvStore;
  envChanger: EnvChanger;
  /** The keeper of the active generation's listening sockets. */
  keeper: SocketKeeper;
};

/** Builds the parts for `options`; reloads go through `queue`. Nothing runs until the supervisor starts them. */
export function createParts(options: Options, log: Logger, queue: ReloadQueue<ReloadMode, ReloadTrigger, ReloadResult>): DaemonParts {
  const env = new EnvStore(runDirPaths(options.runDir).env);
  const fleet = new Fleet({ ...options, historySize: defaults.historySize, variables: env, log });
  const history = new ReloadHistory(1, defaults.historySize, { runDir: options.runDir, limit: options.historyLimit, log });
  const respawn = { backoffMs: options.respawnBackoffMs, backoffMaxMs: options.respawnBackoffMaxMs, resetAfterMs: options.respawnResetAfterMs };
  const liveness = new Liveness({ respawn, watchdog: { intervalMs: options.watchdogIntervalMs, misses: options.watchdogMisses } }, fleet, queue, log);
  const watch = { config: options.config, quietMs: options.watchQuietMs, maxWaitMs: options.watchMaxWaitMs, log: log.child({ component: 'watch' }) };
  const watcher = options.watch ? new ConfigWatcher(watch, () => queue.request('reload', 'watch')) : undefined;
  const keeper = new SocketKeeper(options.runDir, log.child({ component: 'keeper' }));
  const transaction = new ReloadTransaction({
    fleet,
    keeper,
    variables: env,
    checker: configChecker({ ...options, fragment: fragmentPath(options.runDir), variables: env, timeoutMs: options.readyTimeoutMs }),
    records: history,
    baseline: watcher,
    settings: options,
    log,
  });
  const targets = { live: () => fleet.live(), request: (mode: 'reload', trigger: 'env') => queue.request(mode, trigger), idle: () => queue.idle() };
  const envChanger = new EnvChanger(env, targets, options.config, log.child({ component: 'env' }));
  return { fleet, history, transaction, liveness, watcher, env, envChanger, keeper };
}

/** `status`: the supervisor's own line, then what each part says; `usageOf` (the config) measures live generations. */
export function statusOf(parts: DaemonParts, supervisor: Omit<Status['supervisor'], 'memory'>, usageOf: string[] | undefined): Status {
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  return {
    supervisor: { ...supervisor, memory: { rss, heapTotal, heapUsed, external } },
    generations: publicGenerations(parts.fleet, usageOf),
    lastReload: parts.history.last(),
    reloads: parts.history.newestFirst(),
    crashLoop: parts.liveness.status(),
    watch: parts.watcher?.status() ?? { enabled: false, files: [], directories: [] },
    env: parts.env.values(),
    keeper: keeperStatus(parts.keeper.view()),
  };
}

/** The keeper as status shows it: `127.0.0.1:80 tcp`, `[::1]:443 tcp`, `/run/haproxy/admin.sock unix`. */
function keeperStatus(view: ReturnType<SocketKeeper['view']>): Status['keeper'] {
  if (view === undefined) return null;
  const address = (socket: (typeof view.sockets)[number]): string =>
    socket.family === 'unix' ? `${socket.address} unix` : `${socket.family === 'ipv6' ? `[${socket.address}]` : socket.address}:${socket.port ?? '?'} ${socket.type}`;
  return { pid: view.pid, sockets: view.sockets.map(address) };
}
