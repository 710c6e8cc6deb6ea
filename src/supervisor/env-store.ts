import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { checkEnvName, checkEnvValue } from '../config/env-names.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import type { RunDirAccess } from '../system/run-dir.js';

/**
 * The variables set for haproxy (`env set`), persisted in `<run-dir>/env.json` (atomic, 0600): every new
 * generation gets them in its environment, across reloads, crash respawns and supervisor restarts.
 */
export class EnvStore {
  readonly #file: string;
  #access: Pick<RunDirAccess, 'fileMode' | 'gid'> = { fileMode: 0o600, gid: undefined };
  #values: Record<string, string> = {};

  constructor(file: string) {
    this.#file = file;
  }

  /**
   * Reads env.json (the run dir is safe by now; `access` is how later writes are made); entries that are not valid
   * (name or value) are dropped and logged, a missing file is empty.
   */
  load(log: Logger, access: Pick<RunDirAccess, 'fileMode' | 'gid'>): void {
    this.#access = access;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.#file, 'utf8'));
    } catch {
      return;
    }
    const vars = typeof parsed === 'object' && parsed !== null ? (parsed as { vars?: unknown }).vars : undefined;
    if (typeof vars !== 'object' || vars === null) return;
    for (const [name, value] of Object.entries(vars)) {
      try {
        if (typeof value !== 'string') throw new Error('not a string');
        checkEnvName(name);
        checkEnvValue(name, value);
        this.#values[name] = value;
      } catch (error) {
        log.warn({ name, err: error }, 'dropped an invalid variable from env.json');
      }
    }
  }

  /** The current variables (a copy). */
  values(): Record<string, string> {
    return { ...this.#values };
  }

  /** Replaces every variable and persists them before resolving. */
  async replace(values: Record<string, string>): Promise<void> {
    await writeFileAtomic(this.#file, `${JSON.stringify({ version: 1, vars: values }, null, 2)}\n`, { mode: this.#access.fileMode, gid: this.#access.gid });
    this.#values = { ...values };
  }
}
