import type { Logger } from 'pino';
import { ReloadError, errorCode, type ReloadPhase } from '../errors.js';
import { checkConfig } from '../haproxy/check.js';
import { configFacts } from '../haproxy/config-facts.js';
import type { LoadedConfig } from '../haproxy/config-load.js';
import { assessReadiness } from '../haproxy/readiness.js';
import { haproxyEnv } from './launch.js';
import { terminate, type Generation } from './generation.js';
import { waitReady } from './readiness.js';
import type { Registry } from './registry.js';
import type { Batch } from './reload-queue.js';

/**
 * start: first generation; reload: socket transfer, else a legacy reload reported `hitless: false`;
 * reload-socket: socket transfer or fail; restart: terminate every generation, then start (drops connections);
 * respawn: start a generation when none is active (after a crash).
 */
export type ReloadMode = 'start' | 'reload' | 'reload-socket' | 'restart' | 'respawn';

/** Who asked. */
export type ReloadTrigger = 'cli' | 'signal' | 'start' | 'crash' | 'watch';

/** What every caller of a reload learns. */
export type ReloadResult = {
  id: number;
  ok: boolean;
  mode: ReloadMode;
  triggers: ReloadTrigger[];
  /** True only when the new generation took the listening sockets over from the running one (-x). */
  hitless: boolean;
  startedAt: string;
  durationMs: number;
  generation?: { id: number; pid: number };
  /** Older generations told to finish (SIGUSR1) or terminated by this reload. */
  retired: Array<{ id: number; pid: number }>;
  warnings: string[];
  /** prepareMs: reading and parsing the config (and hashing what the watcher watches); then check and spawn→ready, in parallel. */
  timings: { prepareMs?: number; checkMs?: number; readyMs?: number };
  error?: { code: string; phase: ReloadPhase; message: string; lines: string[] };
};

/** What the transaction needs from the supervisor. */
export type ReloadContext = {
  haproxy: string;
  config: string[];
  fragment: string;
  readyTimeoutMs: number;
  drainTimeoutMs: number;
  killGraceMs: number;
  registry: Registry;
  log: Logger;
  takeReloadId: () => number;
  launch: (transferFrom: string | undefined) => Promise<Generation>;
  /** Called for each generation that starts draining. */
  onDraining: (generation: Generation) => void;
};

const TRANSFER_FAILURE = /old process socket|sockets to be transferred|sockets from the old process|expected number of sockets/;

/**
 * One reload transaction, start to end: lint → `haproxy -c` while the new generation spawns (with -x from the
 * running one) and proves it serves → only once both passed, tell every older live generation to finish (SIGUSR1,
 * identity-checked at that instant) with a deadline. Any failure before that soft-stops the new process and leaves
 * the older generations untouched and serving. A restart checks first: it must not kill anything for a bad config.
 */
export async function runReload(context: ReloadContext, batch: Batch<ReloadMode, ReloadTrigger>, config: LoadedConfig): Promise<ReloadResult> {
  const started = performance.now();
  const result: ReloadResult = {
    id: context.takeReloadId(),
    ok: false,
    mode: batch.mode,
    triggers: batch.triggers,
    hitless: false,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    retired: [],
    warnings: [],
    timings: {},
  };
  const log = context.log.child({ reload: result.id, mode: batch.mode });
  try {
    if (batch.mode === 'respawn' && context.registry.active() !== undefined) {
      result.ok = true;
      result.warnings.push('A generation was already serving; nothing to respawn.');
      return result;
    }
    lint(config, context.drainTimeoutMs);
    let generation: Generation;
    if (batch.mode === 'restart') {
      await check(context, result);
      await terminateAll(context, result);
      generation = await startGeneration(context, result, log);
    } else {
      generation = await checkWhileStarting(context, result, log);
    }
    generation.markActive();
    result.generation = { id: generation.id, pid: generation.pid };
    retireOlder(context, result, generation);
    result.ok = true;
  } catch (error) {
    const reloadError = error instanceof ReloadError ? error : new ReloadError((error as Error).message, 'spawn', [], undefined, { cause: error });
    result.error = { code: errorCode(reloadError), phase: reloadError.phase, message: reloadError.message, lines: reloadError.lines };
  } finally {
    result.durationMs = Math.round(performance.now() - started);
  }
  if (result.ok) log.info({ result }, 'reload succeeded');
  else log.error({ result }, 'reload failed');
  return result;
}

/** Refuses what cannot work under a supervisor (master-worker, an empty file), before anything runs. */
function lint(config: LoadedConfig, drainTimeoutMs: number): void {
  const findings = assessReadiness(configFacts(config), drainTimeoutMs);
  const errors = findings.filter((finding) => finding.level === 'error');
  if (errors.length > 0) {
    throw new ReloadError(errors.map((finding) => `${finding.message} ${finding.fix ?? ''}`.trim()).join('\n'), 'lint');
  }
}

/**
 * `haproxy -c` and the spawn at once: the reload costs the longer of the two, not their sum. Safe because the new
 * process signals no one (no -sf): if the check fails, the new generation is soft-stopped (abandon) and the
 * running one, never signalled, keeps serving.
 */
async function checkWhileStarting(context: ReloadContext, result: ReloadResult, log: Logger): Promise<Generation> {
  const [checked, started] = await Promise.allSettled([check(context, result), startGeneration(context, result, log)]);
  if (checked.status === 'rejected') {
    if (started.status === 'fulfilled') {
      started.value.log.warn('haproxy -c failed while this generation started: soft-stopping it');
      started.value.abandon(context.killGraceMs);
    }
    throw checked.reason;
  }
  if (started.status === 'rejected') throw started.reason;
  return started.value;
}

async function check(context: ReloadContext, result: ReloadResult): Promise<void> {
  try {
    const check = await checkConfig(context.haproxy, context.config, context.fragment, haproxyEnv('/nonexistent/check.sock'), context.readyTimeoutMs);
    result.timings.checkMs = check.durationMs;
    result.warnings.push(...check.warnings);
  } catch (error) {
    const lines = (error as { lines?: string[] }).lines ?? [(error as Error).message];
    throw new ReloadError(`haproxy -c rejected the configuration:\n${lines.join('\n')}`, 'check', lines, undefined, { cause: error });
  }
}

/** Spawns the new generation and waits until it serves; with mode reload, falls back to a legacy start when -x fails. */
async function startGeneration(context: ReloadContext, result: ReloadResult, log: Logger): Promise<Generation> {
  const running = context.registry.active();
  const transferFrom = running?.isLive() === true ? running.record.socket : undefined;
  if (result.mode === 'reload-socket' && transferFrom === undefined) {
    throw new ReloadError('No running generation to take the listening sockets from; use `reload` or `restart`.', 'transfer');
  }
  if (transferFrom === undefined && result.mode === 'reload') {
    result.warnings.push('No generation was serving: started a fresh one (nothing to transfer).');
  }
  const readyStarted = performance.now();
  const attempt = await spawnAndWait(context, transferFrom);
  if (attempt.generation !== undefined) {
    result.hitless = transferFrom !== undefined;
    result.timings.readyMs = Math.round(performance.now() - readyStarted);
    return attempt.generation;
  }
  const transferFailed = transferFrom !== undefined && attempt.lines.some((line) => TRANSFER_FAILURE.test(line));
  if (transferFailed && result.mode === 'reload') {
    const warning = `Socket transfer from generation ${running?.id} failed (${attempt.lines.find((line) => TRANSFER_FAILURE.test(line))}); reloaded without it: connections arriving during the switch may be refused.`;
    log.warn(warning);
    result.warnings.push(warning);
    const legacy = await spawnAndWait(context, undefined);
    if (legacy.generation !== undefined) {
      result.timings.readyMs = Math.round(performance.now() - readyStarted);
      return legacy.generation;
    }
    throw new ReloadError(`The new generation failed to start: ${legacy.detail}`, 'spawn', legacy.lines, legacy.pid);
  }
  const phase: ReloadPhase = transferFailed ? 'transfer' : attempt.timedOut ? 'ready' : 'spawn';
  throw new ReloadError(`The new generation failed to start: ${attempt.detail}`, phase, attempt.lines, attempt.pid);
}

type Attempt = { generation?: Generation; lines: string[]; detail: string; pid?: number; timedOut?: boolean };

async function spawnAndWait(context: ReloadContext, transferFrom: string | undefined): Promise<Attempt> {
  const generation = await context.launch(transferFrom);
  const notReady = await waitReady(generation, context.readyTimeoutMs);
  if (notReady === undefined) return { generation, lines: [], detail: '' };
  // Never proved it serves: end it. Older generations were not signalled and keep serving.
  generation.abandon(context.killGraceMs);
  const exit = await generation.exited;
  const lines = generation.tail();
  const how = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
  return {
    lines,
    pid: generation.pid,
    timedOut: notReady.reason === 'timeout',
    detail: notReady.reason === 'timeout' ? notReady.detail : `haproxy exited (${how}) before it served`,
  };
}

/** Tells every older live generation to finish, identity-checked; each gets a deadline. */
function retireOlder(context: ReloadContext, result: ReloadResult, current: Generation): void {
  const deadline = new Date(Date.now() + context.drainTimeoutMs);
  for (const generation of context.registry.live()) {
    // Newer ones cannot exist (one reload at a time); ones already being ended (abandoned, escalated) keep their course.
    if (generation.id >= current.id || generation.record.escalation !== undefined) continue;
    const wasDraining = generation.state === 'draining';
    const outcome = generation.softStop(deadline);
    if (outcome === 'sent' && !wasDraining) {
      result.retired.push({ id: generation.id, pid: generation.pid });
      generation.log.info({ deadline: generation.record.deadline }, 'draining');
    }
    if (outcome === 'recycled') generation.log.error('pid now names another process: not signalled');
    context.onDraining(generation);
  }
}

/** Hard restart: every live generation gets SIGTERM, then SIGKILL after --kill-grace; waits for them to exit. */
async function terminateAll(context: ReloadContext, result: ReloadResult): Promise<void> {
  const live = context.registry.live();
  result.retired.push(...live.map((generation) => ({ id: generation.id, pid: generation.pid })));
  await terminate(live, context.killGraceMs);
}
