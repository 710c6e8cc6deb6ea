import type { Logger } from 'pino';
import { runDirPaths } from '../config/run-dir.js';
import type { Daemon } from '../control/dispatch.js';
import { ControlServer } from '../control/server.js';
import { acquirePidfile, releasePidfile } from '../system/pidfile.js';
import { takeRunDir, type RunDirAccess } from '../system/run-dir.js';

/**
 * What a supervisor holds exclusively in its run dir: the pidfile (taken first: a second supervisor touches
 * nothing) and the control socket. `upgrade` gives both to a successor and takes them back if it fails.
 */
export class RunDirLease {
  readonly #runDir: string;
  readonly #paths: ReturnType<typeof runDirPaths>;
  readonly #daemon: Daemon;
  readonly #log: Logger;
  #access: RunDirAccess | undefined;
  #server: ControlServer | undefined;
  #releasing: ControlServer | undefined;
  #ownsPidfile = false;

  constructor(runDir: string, daemon: Daemon, log: Logger) {
    this.#runDir = runDir;
    this.#paths = runDirPaths(runDir);
    this.#daemon = daemon;
    this.#log = log;
  }

  /** How files in the run dir are written (set by `take`). */
  get access(): RunDirAccess {
    return this.#access ?? { dirMode: 0o700, fileMode: 0o600, gid: undefined };
  }

  /** A safe run dir (or RunDirUnsafeError), then the pidfile (or RunDirOwnedError). */
  takeRunDir(socketGroup: string | undefined): RunDirAccess {
    this.#access = takeRunDir(this.#runDir, this.#paths.pidfile, { socketGroup });
    this.#ownsPidfile = true;
    return this.#access;
  }

  /** Opens the control socket. */
  async listen(): Promise<void> {
    this.#server = await ControlServer.listen(this.#paths.control, this.#daemon, this.#log.child({ component: 'control' }), this.access.gid);
  }

  /** Gives the pidfile and the control socket up for a successor; requests in flight still get their replies. */
  release(): void {
    this.#server?.stopListening(this.#paths.control);
    this.#releasing = this.#server;
    this.#server = undefined;
    if (this.#ownsPidfile) releasePidfile(this.#paths.pidfile);
    this.#ownsPidfile = false;
  }

  /** Takes them back after a failed hand-over. */
  async retake(): Promise<void> {
    acquirePidfile(this.#paths.pidfile, this.access);
    this.#ownsPidfile = true;
    await this.listen();
  }

  /** Closes the control socket (after every reply went out) and releases the pidfile. */
  async close(): Promise<void> {
    const servers = [this.#server, this.#releasing];
    this.#server = undefined;
    this.#releasing = undefined;
    for (const server of servers) await server?.close();
    if (this.#ownsPidfile) releasePidfile(this.#paths.pidfile);
    this.#ownsPidfile = false;
  }
}
