import type { Logger } from 'pino';
import { findKeepers, isKeeper, keeperGone, keeperPaths, keeperRequest, signalOrNothing, startKeeper, type KeeperView } from '../system/keeper.js';
import type { ProcessIdentity } from '../system/proc.js';

/** What the reload transaction asks of the keeper of listening sockets. */
export interface ListenerKeeper {
  /** Where a new generation takes its listeners from (`-x`), while the keeper holds some. */
  source(): string | undefined;
  /**
   * After a generation serves: keep exactly its listening sockets. Never throws; returns a warning when it could not.
   * `listeners`: what determines that generation's listeners (`key`, undefined when unknown) and whether it took them
   * from the keeper; the same key as the last take's, from the keeper, means the keeper already holds exactly them.
   */
  refresh(generationSocket: string, listeners?: Listeners): Promise<string | undefined>;
  /** Lets go of every socket (before a restart binds afresh, before a stop). */
  release(): Promise<void>;
}

/** What determines a new generation's listening sockets, and where it took them from. */
export type Listeners = { key: string | undefined; fromKeeper: boolean };

/** The keeper as state.json and status show it. */
export type KeeperRecord = ProcessIdentity;

/**
 * The keeper of listening sockets (system/keeper-script.ts), owned by the supervisor: started after the first
 * generation serves, refreshed after every reload, adopted by the next supervisor (found by what it runs), and
 * ended by stop. Without python3 the supervisor runs as before and says so once.
 */
export class SocketKeeper implements ListenerKeeper {
  readonly #runDir: string;
  readonly #log: Logger;
  #identity: ProcessIdentity | undefined;
  #view: KeeperView | undefined;
  /** The listeners key of the generation whose sockets the keeper holds (undefined: unknown). */
  #heldFor: string | undefined;
  #unavailable = false;

  constructor(runDir: string, log: Logger) {
    this.#runDir = runDir;
    this.#log = log;
  }

  /** Takes over a keeper a previous supervisor left running (the one that answers; any other is ended). */
  async adopt(): Promise<void> {
    for (const identity of findKeepers(this.#runDir)) {
      if (this.#identity === undefined) {
        try {
          this.#view = await keeperRequest(this.#runDir, 'status');
          this.#identity = identity;
          this.#log.warn({ pid: identity.pid, sockets: this.#view.sockets.length }, 'adopted the socket keeper left running by a previous supervisor');
          continue;
        } catch {
          // Not answering: ended below like any extra one.
        }
      }
      signalOrNothing(identity);
    }
  }

  source(): string | undefined {
    return this.#identity !== undefined && isKeeper(this.#identity) && (this.#view?.sockets.length ?? 0) > 0 ? keeperPaths(this.#runDir).socket : undefined;
  }

  async refresh(generationSocket: string, listeners?: Listeners): Promise<string | undefined> {
    // A generation that took every listener from the keeper, on a configuration that binds the same sockets as the
    // one the keeper took them from, bound nothing new and dropped nothing: the keeper holds exactly its sockets. Asking
    // again would cost the keeper, haproxy and this process a round of fd passing on most reloads (bench: CPU per reload).
    // The keeper answered that generation's -x a moment ago; the next reload's source() checks it is still the keeper.
    const key = listeners?.key;
    if (key !== undefined && listeners?.fromKeeper === true && key === this.#heldFor && (this.#view?.sockets.length ?? 0) > 0) return undefined;
    if (!(await this.#ensure())) return undefined;
    this.#heldFor = undefined;
    try {
      this.#view = await keeperRequest(this.#runDir, `take ${generationSocket}`);
      this.#heldFor = key;
      return undefined;
    } catch (error) {
      // Whatever it still holds may no longer be what serves: let go of it rather than keep a stale socket open.
      await this.release();
      const warning = `The socket keeper could not take the new generation's listeners (${(error as Error).message}); it holds none until the next reload.`;
      this.#log.warn(warning);
      return warning;
    }
  }

  async release(): Promise<void> {
    this.#heldFor = undefined;
    if (this.#identity === undefined || !isKeeper(this.#identity)) return;
    try {
      this.#view = await keeperRequest(this.#runDir, 'release');
    } catch (error) {
      this.#log.warn({ err: error }, 'the socket keeper did not release its sockets: ending it');
      this.#end();
    }
  }

  /** Ends the keeper (after a stop): it lets go of its sockets and exits; SIGTERM if it does not answer. */
  async stop(): Promise<void> {
    const identity = this.#identity;
    if (identity === undefined) return;
    try {
      await keeperRequest(this.#runDir, 'quit');
    } catch {
      this.#end();
    }
    if (!(await keeperGone(identity))) this.#end();
    this.#identity = undefined;
    this.#view = undefined;
  }

  /**
   * The keeper this supervisor started or adopted, as state.json records it: not checked against /proc here (a
   * successor identifies it by what it runs anyway), since state.json is written several times per reload.
   */
  recorded(): ProcessIdentity | undefined {
    return this.#identity;
  }

  /** The keeper and what it holds, for status; undefined when none runs. */
  view(): (KeeperView & { startTime: number }) | undefined {
    const identity = this.#identity;
    if (identity === undefined || !isKeeper(identity)) return undefined;
    return { pid: identity.pid, startTime: identity.startTime, sockets: this.#view?.sockets ?? [] };
  }

  /** A keeper running (started now if needed); false without python3 (said once). */
  async #ensure(): Promise<boolean> {
    if (this.#identity !== undefined && isKeeper(this.#identity)) return true;
    if (this.#unavailable) return false;
    this.#identity = await startKeeper(this.#runDir);
    this.#view = undefined;
    this.#heldFor = undefined;
    if (this.#identity === undefined) {
      this.#unavailable = true;
      this.#log.warn('python3 cannot run here: listening sockets are not kept outside haproxy, so a crashed generation refuses connections until its replacement binds');
      return false;
    }
    this.#log.info({ pid: this.#identity.pid }, 'socket keeper started');
    return true;
  }

  #end(): void {
    if (this.#identity !== undefined) signalOrNothing(this.#identity);
  }
}
