import type { Logger } from 'pino';
import type { CrashLoopStatus, ExitReason, ReloadResult } from '../control/types.js';
import type { Fleet } from './fleet.js';
import type { Generation } from './generation.js';
import { Respawner, type ReloadRequests, type RespawnOptions } from './respawn.js';
import { Watchdog, type WatchdogOptions } from './watchdog.js';

/**
 * Keeps a generation serving while the supervisor runs: a crashed active generation is replaced at once
 * (respawn.ts), a hung one as soon as the watchdog says so (watchdog.ts): a fresh generation binds beside it, and
 * once that one serves the hung one is terminated (fleet.ts) so the kernel stops handing it connections.
 */
export class Liveness {
  readonly #fleet: Fleet;
  readonly #reloads: ReloadRequests;
  readonly #log: Logger;
  readonly #respawner: Respawner;
  readonly #watchdog: Watchdog;
  #running = false;
  readonly #onExit = (generation: Generation, reason: ExitReason): void => {
    if (this.#running && reason === 'crashed') this.#respawner.crashed(generation);
  };

  constructor(options: { respawn: RespawnOptions; watchdog: WatchdogOptions }, fleet: Fleet, reloads: ReloadRequests, log: Logger) {
    this.#fleet = fleet;
    this.#reloads = reloads;
    this.#log = log;
    this.#respawner = new Respawner(options.respawn, reloads, log);
    this.#watchdog = new Watchdog(options.watchdog, fleet, log.child({ component: 'watchdog' }));
    this.#watchdog.on('hung', (generation, reason) => this.#hung(generation, reason));
  }

  /** From the first generation serving on. */
  start(): void {
    this.#running = true;
    this.#fleet.on('exited', this.#onExit);
    this.#watchdog.start();
  }

  /** Stopping: nothing is replaced any more. */
  stop(): void {
    this.#running = false;
    this.#fleet.off('exited', this.#onExit);
    this.#watchdog.stop();
    this.#respawner.cancel();
  }

  /** A reload finished; when the supervisor runs and nothing serves after it, another attempt follows (with backoff). */
  reloaded(result: ReloadResult): void {
    this.#respawner.reloaded(result, this.#running && this.#fleet.active() === undefined);
  }

  status(): CrashLoopStatus & { looping: boolean } {
    return this.#respawner.status();
  }

  #hung(generation: Generation, reason: string): void {
    this.#fleet.markHung(generation, reason);
    this.#log.error({ gen: generation.id, pid: generation.pid, reason }, `generation ${generation.id} is HUNG (${reason}): starting a fresh one beside it; it will be terminated once that one serves`);
    this.#reloads.request('reload', 'watchdog').catch((error: unknown) => this.#log.debug({ err: error }, 'replacement of a hung generation not run'));
  }
}
