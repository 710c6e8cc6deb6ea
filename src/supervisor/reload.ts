import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ReloadResult } from '../control/types.js';
import { HaproxyCheckError, ReloadError } from '../errors.js';
import type { Checker } from '../haproxy/check.js';
import { configFacts, type ConfigFacts } from '../haproxy/config-facts.js';
import { lintConfig } from '../haproxy/config-lint.js';
import { keepAliveFindings } from '../haproxy/keep-alive.js';
import type { HaproxyVariables } from '../haproxy/environment.js';
import { saveServerState } from '../haproxy/server-state.js';
import { showStat } from '../haproxy/stat.js';
import { crashPoint } from '../system/crash-point.js';
import { loadConfig, type LoadedConfig } from '../haproxy/config-load.js';
import type { Snapshot } from '../watch/content-hash.js';
import type { GenerationRef, LaunchOptions } from './fleet.js';
import type { Generation } from './generation.js';
import type { ListenerKeeper, Listeners } from './listener-keeper.js';
import type { Batch } from './reload-queue.js';
import type { NotServing } from './wait-serving.js';
import { verifyGeneration, windowHasWork, type VerifyFailure } from './verify.js';

/** What a reload does with live generations: the part of the fleet (fleet.ts) it uses. */
export interface ReloadFleet {
  active(): Generation | undefined;
  launch(transferFrom: string | undefined, options?: LaunchOptions): Promise<Generation>;
  waitServing(generation: Generation, timeoutMs: number): Promise<NotServing | undefined>;
  activate(generation: Generation): void;
  retireOlderThan(current: Generation): GenerationRef[];
  abandon(generation: Generation): void;
  terminateAll(): Promise<GenerationRef[]>;
  probe(generation: Generation, timeoutMs: number): Promise<string | undefined>;
  markHung(generation: Generation, reason: string): void;
}

/** What the config watcher learns from each reload: the content it read, and whether that content now runs. */
export interface ConfigBaseline {
  capture(config: LoadedConfig): Promise<Snapshot>;
  /** The files whose content differs between what runs now and `captured`. */
  changes(captured: Snapshot): string[];
  loaded(captured: Snapshot): void;
  failed(captured: Snapshot, message: string): void;
}

/** What the history learns of a reload besides its result. */
export type ReloadDetails = { config: LoadedConfig; changedFiles: string[]; output: string[]; haproxyVersion: Promise<string | undefined> };

/** Where reloads are numbered (monotonic across supervisor restarts) and recorded (reload-history.ts). */
export interface ReloadRecords {
  takeId(): number;
  /** Must not throw nor make the reload wait: the history is written off the reload's path. */
  record(result: ReloadResult, details: ReloadDetails): void;
}

/** Settings of every reload. `verifyWindowMs` 0 turns the verify window off. */
export type ReloadSettings = { config: string[]; readyTimeoutMs: number; drainTimeoutMs: number; verifyWindowMs: number; verifyObserveMs: number };

/** The collaborators of the transaction, each an object that owns its own state. */
export type ReloadParts = { fleet: ReloadFleet; checker: Checker; records: ReloadRecords; baseline?: ConfigBaseline; keeper?: ListenerKeeper; variables?: HaproxyVariables; settings: ReloadSettings; log: Logger };

/** A batch of the queue: the mode and every trigger that joined it. */
export type ReloadBatch = Batch<ReloadResult['mode'], ReloadResult['triggers'][number]>;

const TRANSFER_FAILURE = /old process socket|sockets to be transferred|sockets from the old process|expected number of sockets/;

/** How long a running generation whose socket transfer failed gets to answer before it counts as hung. */
const HUNG_PROBE_MS = 1000;

/**
 * The reload transaction, start to end: read and lint the config → spawn the new generation (with -x from the
 * running one), whose own start is the configuration check, and wait until it proves it serves → only then tell every
 * older live generation to finish (SIGUSR1, identity-checked at that instant) with a deadline. Any failure before
 * that soft-stops the new process and leaves the older generations untouched and serving. A restart checks first
 * (`haproxy -c`): it must not kill anything for a bad config. The result it returns is final: its duration covers
 * the whole path.
 */
export class ReloadTransaction {
  readonly #parts: ReloadParts;
  /** The config's `server-state-file`, written from the running generation right before each spawn. */
  #stateFile: string | undefined;
  /** The digest of the configuration the last successful reload loaded (its warnings are given once per content). */
  #loaded: string | undefined;
  /** The config sets no `nice` of its own: a new generation may start at a low priority beside the serving one. */
  #mayLowerPriority = true;
  /** Where the last started generation took its listeners from, and what determined them (#listenersKey). */
  #started: Listeners = { key: undefined, fromKeeper: false };

  constructor(parts: ReloadParts) {
    this.#parts = parts;
  }

  async run(batch: ReloadBatch): Promise<ReloadResult> {
    const started = performance.now();
    const { fleet, baseline, settings, checker } = this.#parts;
    const output: string[] = [];
    const result: ReloadResult = {
      id: this.#parts.records.takeId(),
      ok: false,
      mode: batch.mode,
      triggers: [...batch.triggers],
      hitless: false,
      startedAt: new Date().toISOString(),
      durationMs: 0,
      retired: [],
      warnings: [],
      timings: {},
    };
    const log = this.#parts.log.child({ reload: result.id, mode: batch.mode });
    // Read and parsed once: for the lint here and for what the watcher takes as loaded (hashed meanwhile).
    const config = loadConfig(settings.config);
    const capturing = baseline?.capture(config);
    result.timings.prepareMs = Math.round(performance.now() - started);
    try {
      if (batch.mode === 'respawn' && fleet.active() !== undefined) {
        result.ok = true;
        result.warnings.push('A generation was already serving; nothing to respawn.');
      } else {
        const facts = configFacts(config);
        lint(facts, settings.drainTimeoutMs);
        this.#stateFile = facts.serverStateFile;
        this.#mayLowerPriority = facts.nice === undefined;
        // One haproxy start per reload: the new generation's own start is the configuration check. haproxy parses and
        // checks everything before it binds and exits with its ALERT lines when it rejects the configuration, and
        // under the supervisor it signals no one (no -sf). A second parse (`haproxy -c`) beside it would double the
        // CPU a reload costs and compete with the serving generation for the same cores.
        const running = fleet.active();
        // What determines a spawned generation's listeners, read in the tick of its spawn (the variables may change).
        const listenersKey = (): string | undefined => (facts.listenersFollowText ? this.#listenersKey(config.digest) : undefined);
        const generation = batch.mode === 'restart' ? await this.#restart(result, log, listenersKey) : await this.#startGeneration(result, log, listenersKey);
        crashPoint('after-ready');
        if (this.#verifies(batch, running, facts)) await this.#verify(generation, running, result, log);
        fleet.activate(generation);
        crashPoint('after-activate');
        output.push(...generation.tail());
        result.generation = { id: generation.id, pid: generation.pid };
        // Before any older generation unbinds: the keeper then holds exactly what serves now, and a socket whose bind
        // line is gone is closed by everyone at once (never left open where nobody accepts).
        const kept = await this.#parts.keeper?.refresh(generation.record.socket, this.#started);
        if (kept !== undefined) result.warnings.push(kept);
        result.retired.push(...fleet.retireOlderThan(generation));
        crashPoint('after-retire');
        result.ok = true;
        if (config.digest !== this.#loaded) result.warnings.push(...firstLoadWarnings(facts, log));
        this.#loaded = config.digest;
      }
    } catch (error) {
      const failure = error instanceof ReloadError ? error : new ReloadError((error as Error).message, { phase: 'spawn', cause: error });
      result.error = { code: failure.code, phase: failure.phase, message: failure.message, lines: failure.lines };
    }
    const captured = await capturing;
    result.durationMs = Math.round(performance.now() - started);
    const changedFiles = captured === undefined || baseline === undefined ? [] : baseline.changes(captured);
    if (captured !== undefined && baseline !== undefined) {
      if (result.ok && result.generation !== undefined) baseline.loaded(captured);
      else if (!result.ok) baseline.failed(captured, result.error?.message ?? 'reload failed');
    }
    if (result.ok) log.info({ result }, 'reload succeeded');
    else log.error({ result }, 'reload failed');
    const lines = [...result.warnings.filter((warning) => warning.startsWith('[')), ...output, ...(result.error?.lines ?? [])];
    this.#parts.records.record(result, { config, changedFiles, output: lines, haproxyVersion: checker.version() });
    return result;
  }

  /**
   * Whether this reload gets a verify window: a reload or reload-socket beside a running generation that serves
   * (a restart, the first start and a crash respawn have nothing to compare with), unless `--no-verify`, and only
   * when the window has something to decide for this config (verify.ts `windowHasWork`).
   */
  #verifies(batch: ReloadBatch, running: Generation | undefined, facts: ConfigFacts): running is Generation {
    const { verifyWindowMs, verifyObserveMs } = this.#parts.settings;
    if (!windowHasWork(facts.servers, { windowMs: verifyWindowMs, observeMs: verifyObserveMs })) return false;
    return verifyWindowMs > 0 && batch.skipVerify !== true && (batch.mode === 'reload' || batch.mode === 'reload-socket') && running?.isLive() === true && running.record.hung === undefined;
  }

  /**
   * The verify window (verify.ts): both generations serve while the new one proves it reaches what the running one
   * reaches. A failure soft-stops the new generation; the running one was never signalled.
   */
  async #verify(generation: Generation, running: Generation, result: ReloadResult, log: Logger): Promise<void> {
    const { verifyWindowMs, verifyObserveMs } = this.#parts.settings;
    const started = performance.now();
    const timeoutMs = Math.max(1000, verifyWindowMs);
    let failure: VerifyFailure | undefined;
    try {
      failure = await verifyGeneration(
        () => showStat(running.record.socket, timeoutMs),
        () => showStat(generation.record.socket, timeoutMs).catch((error: unknown) => Promise.reject(new CandidateError(error))),
        { windowMs: verifyWindowMs, observeMs: verifyObserveMs },
      );
    } catch (error) {
      if (error instanceof CandidateError) {
        failure = { reason: `the new generation did not answer \`show stat\` (${(error.cause as Error).message})`, evidence: [] };
      } else {
        // The running generation cannot be asked: nothing to compare with, so the reload goes on as without a window.
        result.warnings.push(`Not verified: the running generation did not answer \`show stat\` (${(error as Error).message}).`);
      }
    }
    result.timings.verifyMs = Math.round(performance.now() - started);
    if (failure === undefined) return;
    generation.log.warn({ reason: failure.reason, evidence: failure.evidence }, 'rolled back: the new generation failed the verify window');
    this.#parts.fleet.abandon(generation);
    const lines = failure.evidence.flatMap(({ backend, servers }) => servers.map((server) => `${backend}/${server.name}: ${server.status}${server.check === '' ? '' : ` (${server.check})`}`));
    log.error({ lines }, 'verify window failed');
    throw new ReloadError(`Rolled back: ${failure.reason}. Generation ${running.id} keeps serving; the new one was soft-stopped.`, { phase: 'verify', lines, pid: generation.pid });
  }

  /**
   * What determines the listening sockets of a generation spawned now, for a configuration whose listeners follow
   * from its text (ConfigFacts.listenersFollowText): that text (its digest) and the variables the generation gets.
   */
  #listenersKey(digest: string): string {
    const variables = Object.entries(this.#parts.variables?.values() ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    return createHash('sha256').update(digest).update(JSON.stringify(variables)).digest('hex');
  }

  /** Hard restart: check first, then terminate every generation and start a fresh one. */
  async #restart(result: ReloadResult, log: Logger, listenersKey: () => string | undefined): Promise<Generation> {
    await this.#check(result);
    // A restart binds afresh (a socket option or a device that -x would carry over): the keeper lets go first.
    await this.#parts.keeper?.release();
    result.retired.push(...(await this.#parts.fleet.terminateAll()));
    return this.#startGeneration(result, log, listenersKey);
  }

  async #check(result: ReloadResult): Promise<void> {
    try {
      const check = await this.#parts.checker.check();
      result.timings.checkMs = check.durationMs;
      result.warnings.push(...check.warnings);
    } catch (error) {
      const lines = error instanceof HaproxyCheckError ? error.lines : [(error as Error).message];
      throw new ReloadError(`haproxy -c rejected the configuration:\n${lines.join('\n')}`, { phase: 'check', lines, cause: error });
    }
  }

  /**
   * Spawns the new generation and waits until it serves. It takes its listeners (-x) from the socket keeper when
   * it holds them, else from the running generation; when a transfer fails it tries the next source, and with any
   * mode but reload-socket ends with a fresh bind (`hitless: false`, with a warning). The keeper never fails a
   * reload: without it, this is the reload as before. `restart` binds afresh on purpose.
   */
  async #startGeneration(result: ReloadResult, log: Logger, listenersKey: () => string | undefined): Promise<Generation> {
    const running = this.#parts.fleet.active();
    const hung = running?.record.hung;
    const fromRunning = running?.isLive() === true && hung === undefined ? running.record.socket : undefined;
    const fromKeeper = result.mode === 'restart' ? undefined : this.#parts.keeper?.source();
    const sources: Array<{ socket: string | undefined; what: string }> = [];
    if (fromKeeper !== undefined) sources.push({ socket: fromKeeper, what: 'the socket keeper' });
    if (fromRunning !== undefined) sources.push({ socket: fromRunning, what: `generation ${running?.id}` });
    if (result.mode === 'reload-socket' && sources.length === 0) {
      const why = hung === undefined ? 'No running generation to take the listening sockets from' : `Generation ${running?.id} is hung (${hung.reason}): it cannot hand its listening sockets over`;
      throw new ReloadError(`${why}; use \`reload\` or \`restart\`.`, { phase: 'transfer' });
    }
    if (result.mode !== 'reload-socket') sources.push({ socket: undefined, what: 'a fresh bind' });
    if (hung !== undefined && result.mode === 'reload') {
      const how = fromKeeper === undefined ? 'started a fresh one without socket transfer' : 'the new one takes the listeners from the socket keeper';
      result.warnings.push(`Generation ${running?.id} is hung (${hung.reason}): ${how}; the hung one is terminated now that this one serves.`);
    } else if (sources.length === 1 && result.mode === 'reload') {
      result.warnings.push('No generation was serving: started a fresh one (nothing to transfer).');
    }
    if (this.#stateFile !== undefined && fromRunning !== undefined) {
      try {
        await saveServerState(fromRunning, this.#stateFile);
      } catch (error) {
        result.warnings.push(`Server state not carried over (${(error as Error).message}): servers set to maintenance, drain or another weight at runtime start as the config says.`);
      }
    }
    const readyStarted = performance.now();
    for (const [index, source] of sources.entries()) {
      // Beside a generation that serves, the new one starts at a low priority (fleet.ts); none is left to slow down otherwise.
      const key = listenersKey();
      const attempt = await this.#spawnAndWait(source.socket, fromRunning !== undefined);
      if (attempt.generation !== undefined) {
        result.hitless = source.socket !== undefined;
        this.#started = { key, fromKeeper: source.socket !== undefined && source.socket === fromKeeper };
        result.timings.readyMs = Math.round(performance.now() - readyStarted);
        result.warnings.push(...startupWarnings(attempt.generation));
        return attempt.generation;
      }
      if (rejectsConfig(attempt.lines)) throw configRejected(attempt);
      const transferLine = source.socket === undefined ? undefined : attempt.lines.find((line) => TRANSFER_FAILURE.test(line));
      const next = sources[index + 1];
      if (transferLine === undefined || next === undefined) {
        const phase = transferLine !== undefined ? 'transfer' : attempt.timedOut === true ? 'ready' : 'spawn';
        throw new ReloadError(`The new generation failed to start: ${attempt.detail}`, { phase, lines: attempt.lines, pid: attempt.pid });
      }
      if (source.socket === fromRunning && running !== undefined) {
        // A running generation that does not answer is hung: it is terminated once the new one serves, not drained.
        const silent = await this.#parts.fleet.probe(running, HUNG_PROBE_MS);
        if (silent !== undefined) this.#parts.fleet.markHung(running, silent);
      }
      const hungNow = running?.record.hung === undefined || hung !== undefined ? '' : ` Generation ${running.id} does not answer (${running.record.hung.reason}): it is terminated once the new one serves.`;
      const then = next.socket === undefined ? 'reloaded without it: connections arriving during the switch may be refused.' : `took the listeners from ${next.what}.`;
      const warning = `Socket transfer from ${source.what} failed (${transferLine}); ${then}${hungNow}`;
      log.warn(warning);
      result.warnings.push(warning);
    }
    throw new ReloadError('The new generation failed to start: nothing to start it from.', { phase: 'spawn' });
  }

  async #spawnAndWait(transferFrom: string | undefined, besideServing: boolean): Promise<Attempt> {
    const { fleet, settings } = this.#parts;
    const generation = await fleet.launch(transferFrom, { lowPriority: besideServing && this.#mayLowerPriority });
    const notServing = await fleet.waitServing(generation, settings.readyTimeoutMs);
    if (notServing === undefined) return { generation, lines: [], detail: '' };
    // Never proved it serves: end it. Older generations were not signalled and keep serving.
    fleet.abandon(generation);
    const exit = await generation.exited;
    const how = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
    return {
      lines: generation.tail(),
      pid: generation.pid,
      timedOut: notServing.reason === 'timeout',
      detail: notServing.reason === 'timeout' ? notServing.detail : `haproxy exited (${how}) before it served`,
    };
  }
}

type Attempt = { generation?: Generation; lines: string[]; detail: string; pid?: number; timedOut?: boolean };

/** `show stat` of the new generation failed (as opposed to the running one's). */
class CandidateError extends Error {
  constructor(cause: unknown) {
    super('the new generation did not answer', { cause });
  }
}

/** haproxy's ALERTs of its configuration phase (`[ALERT] (pid) : config : …`): what `haproxy -c` would say too. */
const CONFIG_ALERT = /^\[(ALERT|EMERG)\]\s+\(\d+\) : config : /;

/** True when haproxy exited because it rejected the configuration (not because it could not bind, say). */
function rejectsConfig(lines: string[]): boolean {
  return lines.some((line) => CONFIG_ALERT.test(line));
}

/** The failure of a start that haproxy refused for its configuration: exit 10, its ALERT lines, as `haproxy -c` gave them. */
function configRejected(attempt: Attempt): ReloadError {
  const lines = attempt.lines.filter((line) => /^\[(ALERT|EMERG|WARNING)\]/.test(line));
  return new ReloadError(`haproxy rejected the configuration:\n${lines.join('\n')}`, { phase: 'check', lines, pid: attempt.pid });
}

/** The WARNING lines a generation printed while it started (before it served). */
function startupWarnings(generation: Generation): string[] {
  return generation.tail().filter((line) => line.startsWith('[WARNING]'));
}

/** What a configuration's first load warns about, in the result and the log: what keep-alive clients will see on reloads. */
function firstLoadWarnings(facts: ConfigFacts, log: Logger): string[] {
  return keepAliveFindings(facts.keepAlive, facts.hardStopAfterMs)
    .filter((finding) => finding.level === 'warning')
    .map((finding) => {
      log.warn({ fix: finding.fix }, finding.message);
      return `${finding.message} Fix: ${finding.fix ?? ''}`.trim();
    });
}

/** Refuses what cannot work under a supervisor (master-worker, an empty file), before anything runs. */
function lint(facts: ConfigFacts, drainTimeoutMs: number): void {
  const errors = lintConfig(facts, drainTimeoutMs).filter((finding) => finding.level === 'error');
  if (errors.length > 0) {
    throw new ReloadError(errors.map((finding) => `${finding.message} ${finding.fix ?? ''}`.trim()).join('\n'), { phase: 'lint' });
  }
}
