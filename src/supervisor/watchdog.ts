import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { showInfo } from '../haproxy/runtime-api.js';
import { readState } from '../system/proc.js';
import type { Generation } from './generation.js';

/** How the active generation is probed: every `intervalMs`, each probe given as long; `misses` in a row mean hung. */
export type WatchdogOptions = { intervalMs: number; misses: number };

/** One probe of a generation: undefined when it answers, else why not. */
export type Probe = (generation: Generation, timeoutMs: number) => Promise<string | undefined>;

/** `hung`: the active generation missed `misses` probes in a row, with the last reason. */
export type WatchdogEvents = { hung: [generation: Generation, reason: string] };

/**
 * Proves the active generation still serves: `show info` on its admin socket must answer with its pid within the
 * interval, and /proc must not show it stopped. A generation stuck in a loop, on a dead disk or under SIGSTOP
 * accepts on its listeners but never serves; after --watchdog-misses misses in a row it is reported hung (once).
 */
export class Watchdog extends EventEmitter<WatchdogEvents> {
  readonly #options: WatchdogOptions;
  readonly #active: () => Generation | undefined;
  readonly #probe: Probe;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #watched: number | undefined;
  #missed = 0;

  constructor(options: WatchdogOptions, fleet: { active(): Generation | undefined }, log: Logger, probe: Probe = probeGeneration) {
    super();
    this.#options = options;
    this.#active = () => fleet.active();
    this.#probe = probe;
    this.#log = log;
  }

  /** Starts probing (once the first generation serves); an interval of 0 disables the watchdog. */
  start(): void {
    if (this.#options.intervalMs > 0 && this.#timer === undefined) this.#next();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #next(): void {
    this.#timer = setTimeout(() => void this.#tick(), this.#options.intervalMs);
  }

  async #tick(): Promise<void> {
    const generation = this.#active();
    if (generation === undefined || generation.record.hung !== undefined) {
      this.#watched = undefined;
      this.#missed = 0;
    } else {
      if (generation.id !== this.#watched) {
        this.#watched = generation.id;
        this.#missed = 0;
      }
      const reason = await this.#probe(generation, this.#options.intervalMs);
      // The generation may have changed (reload, exit) while the probe ran: only a miss of the current one counts.
      if (reason === undefined || this.#active() !== generation) {
        this.#missed = 0;
      } else if (++this.#missed >= this.#options.misses) {
        this.#missed = 0;
        this.emit('hung', generation, reason);
      } else {
        this.#log.warn({ gen: generation.id, pid: generation.pid, missed: this.#missed, reason }, 'active generation did not answer the watchdog');
      }
    }
    if (this.#timer !== undefined) this.#next();
  }
}

/**
 * The default probe: /proc state, then `show info` answering with the generation's own pid. Only a process that is
 * stopped, or that does not answer on a socket that exists, is hung; a socket that is gone (someone removed it)
 * says nothing about the process, so it is not a miss.
 */
export async function probeGeneration(generation: Generation, timeoutMs: number): Promise<string | undefined> {
  const state = readState(generation.pid);
  if (state === 'T' || state === 't') return `process stopped (state ${state}: SIGSTOP or a debugger)`;
  try {
    const info = await showInfo(generation.record.socket, timeoutMs);
    return info.get('Pid') === String(generation.pid) ? undefined : `its socket answered for pid ${info.get('Pid') ?? 'unknown'}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
    return `no answer to show info within ${timeoutMs}ms (${(error as Error).message})`;
  }
}
