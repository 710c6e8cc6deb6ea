import type { Logger } from 'pino';
import { checkEnvName, checkEnvValue } from '../config/env-names.js';
import type { EnvResult, ReloadResult } from '../control/types.js';
import { loadConfig } from '../haproxy/config-load.js';
import { experimentalCommands } from '../haproxy/runtime-api.js';
import { envUses, liveFlip } from '../haproxy/variables.js';
import type { EnvStore } from './env-store.js';
import type { Generation } from './generation.js';

/** A change of the variables set for haproxy: names to set and names to unset. */
export type EnvChange = { set: Record<string, string>; unset: string[] };

/** What an env change needs: the live generations, and reloads (the queue) for when a new process is needed. */
export interface EnvTargets {
  live(): Generation[];
  request(mode: 'reload', trigger: 'env'): Promise<ReloadResult>;
  /** Resolves once no reload runs or waits. */
  idle(): Promise<void>;
}

/** How long one generation gets to take a live flip. */
const FLIP_TIMEOUT_MS = 1000;

/**
 * Changes the variables set for haproxy, one change at a time (in arrival order), so that what is stored is always
 * what the active generation runs with:
 * 1. the new values are stored (every generation started from now on gets them);
 * 2. when the config only seeds process variables from the changed names (`set-var proc.x env(NAME)` in global),
 *    every live generation — the draining ones too, so that long connections see the flag as well — gets
 *    `set var proc.x …` on its admin socket: no new process, no state lost, milliseconds;
 * 3. otherwise, or when the active generation refuses the flip, one reload through the queue (coalesced with
 *    other triggers); if that reload fails, the previous values are stored again and the caller gets the failure.
 */
export class EnvChanger {
  readonly #store: EnvStore;
  readonly #targets: EnvTargets;
  readonly #config: string[];
  readonly #log: Logger;
  #last: Promise<unknown> = Promise.resolve();

  constructor(store: EnvStore, targets: EnvTargets, config: string[], log: Logger) {
    this.#store = store;
    this.#targets = targets;
    this.#config = config;
    this.#log = log;
  }

  /** Applies `change` after every change asked for before it; validates first (OptionError: nothing changes). No change: lists. */
  apply(change: EnvChange): Promise<EnvResult> {
    if (Object.keys(change.set).length + change.unset.length === 0) return Promise.resolve(this.list());
    for (const name of [...Object.keys(change.set), ...change.unset]) checkEnvName(name);
    for (const [name, value] of Object.entries(change.set)) checkEnvValue(name, value);
    const result = this.#last.then(() => this.#apply(change));
    this.#last = result.catch(() => undefined);
    return result;
  }

  /** The current variables, and the process variables the config seeds from each (for `env list`, `maint status`). */
  list(): EnvResult {
    return { ok: true, applied: 'none', changed: [], env: this.#store.values(), seeded: this.#seeded(), flipped: [], warnings: [] };
  }

  async #apply(change: EnvChange): Promise<EnvResult> {
    const previous = this.#store.values();
    const next = { ...previous, ...change.set };
    for (const name of change.unset) delete next[name];
    const changed = [...new Set([...Object.keys(previous), ...Object.keys(next)])].filter((name) => previous[name] !== next[name]).sort();
    const result: EnvResult = { ok: true, applied: 'none', changed, env: next, seeded: this.#seeded(), flipped: [], warnings: [] };
    if (changed.length === 0) return result;
    await this.#store.replace(next);
    this.#log.info({ changed: Object.fromEntries(changed.map((name) => [name, next[name] ?? null])) }, 'variables for haproxy changed');
    const plan = liveFlip(envUses(loadConfig(this.#config)), Object.fromEntries(changed.map((name) => [name, next[name]])));
    if ('commands' in plan && (await this.#flipAll(plan.commands, result))) {
      result.applied = 'live';
      return result;
    }
    if ('reason' in plan) result.warnings.push(`Applied by a reload: ${plan.reason}.`);
    result.applied = 'reload';
    const reload = await this.#targets.request('reload', 'env');
    result.reload = reload;
    if (!reload.ok) {
      await this.#store.replace(previous);
      result.ok = false;
      result.env = previous;
      result.warnings.push(`The reload failed: ${changed.join(', ')} ${changed.length === 1 ? 'keeps its' : 'keep their'} previous value.`);
      this.#log.error({ reload: reload.id }, 'the reload for a variable change failed: previous values restored');
    }
    return result;
  }

  /**
   * Flips every live generation; false (fall back to a reload) when the active one did not take it. A generation
   * that a reload was starting meanwhile is flipped too, once the queue is idle.
   */
  async #flipAll(commands: string[], result: EnvResult): Promise<boolean> {
    const flipped = new Set<number>();
    for (let round = 0; round < 2; round++) {
      for (const generation of this.#targets.live()) {
        if (flipped.has(generation.id)) continue;
        try {
          await experimentalCommands(generation.record.socket, commands, FLIP_TIMEOUT_MS);
          flipped.add(generation.id);
          result.flipped.push({ id: generation.id, pid: generation.pid });
        } catch (error) {
          if (generation.state === 'active') {
            result.warnings.push(`Generation ${generation.id} did not take the change at runtime (${(error as Error).message}); applied by a reload instead.`);
            return false;
          }
          if (generation.state !== 'draining') continue; // still starting: tried again once the queue is idle
          result.warnings.push(`Draining generation ${generation.id} kept its previous value (${(error as Error).message}).`);
          flipped.add(generation.id);
        }
      }
      await this.#targets.idle();
    }
    return result.flipped.length > 0;
  }

  #seeded(): Record<string, string[]> {
    const seeded: Record<string, string[]> = {};
    for (const [name, use] of envUses(loadConfig(this.#config))) if (use.seeds.length > 0) seeded[name] = use.seeds.map((seed) => seed.variable);
    return seeded;
  }
}
