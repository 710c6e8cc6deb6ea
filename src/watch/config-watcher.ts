import { statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { WatchStatus } from '../control/types.js';
import { loadConfig, type LoadedConfig } from '../haproxy/config-load.js';
import { configReferences } from '../haproxy/config-references.js';
import { changedFiles, DigestCache, fingerprint, snapshot, type Snapshot } from './content-hash.js';
import { DirectoryWatcher } from './directory-watcher.js';
import { Settle } from './settle.js';


export type WatchOptions = { config: string[]; quietMs: number; maxWaitMs: number; log: Logger };

/** Result of the reload a change asked for, as far as the watcher needs it. */
export type WatchReload = (changed: string[]) => Promise<{ ok: boolean; error?: { message: string } }>;

/**
 * Reloads when what haproxy reads really changed: the config files (a `-f` directory's `*.cfg` included) and the
 * files they reference (certificates, maps, pattern files, Lua, error files).
 * - It watches directories, never inodes, so editors' and config management's rename-over saves and Kubernetes'
 *   `..data` symlink swaps are seen.
 * - Events only start a settle window (quiet period, maximum wait); content hashes then decide, so touches,
 *   same-content rewrites and half-written states that end up equal do nothing.
 * - A missing config file is an error reported once, never a reload.
 * - Content that failed to load is not retried until it changes again.
 * - After every successful reload, whatever its trigger, the baseline becomes the content captured when that
 *   reload started, and the watched set is recomputed.
 */
export class ConfigWatcher {
  readonly #options: WatchOptions;
  readonly #reload: WatchReload;
  readonly #settle: Settle;
  #watcher: DirectoryWatcher | undefined;
  #files: string[] = [];
  #baseline: Snapshot = { digests: new Map(), missing: [] };
  readonly #digests = new DigestCache();
  /** The last capture, and the configuration text it was made for. */
  #lastCapture: { digest: string; snapshot: Snapshot } | undefined;
  /** Something happened in a watched directory since the last capture (or nothing is known yet). */
  #dirty = true;
  #unreliable = false;
  /** The baseline's fingerprint, computed when first needed (an evaluation), not on every reload. */
  #baselineFingerprint: string | undefined = '';
  #failedFingerprint: string | undefined;
  #lastChange: WatchStatus['lastChange'];
  #lastError: string | undefined;
  #errors = 0;
  #evaluating = false;
  #again = false;
  #closed = false;

  constructor(options: WatchOptions, reload: WatchReload) {
    this.#options = options;
    this.#reload = reload;
    this.#settle = new Settle({ quietMs: options.quietMs, maxWaitMs: options.maxWaitMs }, () => void this.#evaluate());
  }

  /**
   * The files a reload starting now will read (from its already parsed config), and their content. When the watcher
   * has seen nothing happen in the directories it watches since the last capture, of the same configuration text,
   * that capture still holds: a reload by signal or CLI of an unchanged thousand-certificate configuration then costs
   * no stat at all (bench: CPU per reload). Any event, any watcher error, or a watcher not running yet means a fresh look.
   */
  async capture(config: LoadedConfig): Promise<Snapshot> {
    const last = this.#lastCapture;
    if (last !== undefined && !this.#dirty && this.#watcher !== undefined && last.digest === config.digest) return last.snapshot;
    this.#dirty = this.#watcher === undefined || this.#unreliable;
    const captured = await snapshot(filesOf(config), this.#digests);
    this.#lastCapture = { digest: config.digest, snapshot: captured };
    return captured;
  }

  /** The files whose content differs between what runs now (the baseline) and `captured`. */
  changes(captured: Snapshot): string[] {
    return changedFiles(this.#baseline, captured);
  }

  /** A reload that read `captured` succeeded: that content is what runs now. */
  loaded(captured: Snapshot): void {
    this.#baseline = captured;
    this.#baselineFingerprint = undefined;
    this.#failedFingerprint = undefined;
    this.#lastError = undefined;
    this.#rewatch([...captured.digests.keys(), ...captured.missing].sort(), captured.directories);
  }

  /** A reload that read `captured` failed: do not retry that content. */
  failed(captured: Snapshot, message: string): void {
    if (this.#failedFingerprint !== fingerprint(captured)) this.#errors++;
    this.#failedFingerprint = fingerprint(captured);
    this.#lastError = message;
  }

  /** Starts watching (after the first generation serves). */
  start(): void {
    this.#watcher = new DirectoryWatcher(
      () => {
        this.#dirty = true;
        this.#settle.poke();
      },
      ({ directory, error }) => {
        // Events may have been lost (say, the inotify watch limit): never trust a capture again.
        this.#unreliable = true;
        this.#dirty = true;
        this.#options.log.warn({ err: error, directory }, 'watch error');
      },
    );
    // Normally set by loaded() from the first reload; computed here when that reload failed (after adoption).
    this.#rewatch(this.#files.length > 0 ? this.#files : filesOf(loadConfig(this.#options.config)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#settle.cancel();
    this.#watcher?.close();
    return Promise.resolve();
  }

  status(): WatchStatus {
    return {
      enabled: true,
      errors: this.#errors,
      files: this.#files,
      directories: this.#watcher?.directories() ?? [],
      ...(this.#lastChange === undefined ? {} : { lastChange: this.#lastChange }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /**
   * Directories to watch: each `-f` directory, and the directory holding every file (config or referenced).
   * `known`: which of `files` are directories (a crt directory), as a snapshot found them; else each is stat'ed.
   */
  #directoriesFor(files: string[], known: Set<string> | undefined): Set<string> {
    const directories = new Set<string>();
    for (const entry of this.#options.config) directories.add(isDirectory(entry) ? entry : path.dirname(entry));
    for (const file of files) {
      directories.add(path.dirname(file));
      if (known?.has(file) ?? isDirectory(file)) directories.add(file); // a crt directory
    }
    return directories;
  }

  #rewatch(files: string[], directories?: Set<string>): void {
    this.#files = files;
    if (this.#watcher === undefined || this.#closed) return;
    const wanted = this.#directoriesFor(this.#files, directories);
    const before = this.#watcher.directories().join('\n');
    // A directory watched only from now on: the next capture looks again rather than trust the silence.
    if (this.#watcher.set(wanted).length > 0) this.#dirty = true;
    if (this.#watcher.directories().join('\n') !== before) this.#options.log.info({ directories: this.#watcher.directories() }, 'watching');
  }

  async #evaluate(): Promise<void> {
    if (this.#closed) return;
    if (this.#evaluating) {
      this.#again = true;
      return;
    }
    this.#evaluating = true;
    try {
      const config = loadConfig(this.#options.config);
      const now = await snapshot(filesOf(config), this.#digests);
      const configFiles = new Set(config.files);
      const missingConfig = now.missing.filter((file) => configFiles.has(file));
      const emptyConfig = [...configFiles].filter((file) => now.digests.get(file) === EMPTY_DIGEST);
      if (missingConfig.length + emptyConfig.length > 0) {
        const what = [...missingConfig.map((file) => `${file} (missing)`), ...emptyConfig.map((file) => `${file} (empty)`)];
        const message = `Config file missing: ${what.join(', ')}; not reloading until it is back.`;
        if (this.#lastError !== message) {
          this.#options.log.error({ files: what }, message);
          this.#errors++;
        }
        this.#lastError = message;
        return;
      }
      const current = fingerprint(now);
      this.#baselineFingerprint ??= fingerprint(this.#baseline);
      if (current === this.#baselineFingerprint) {
        if (this.#lastError?.startsWith('Config file missing') === true) this.#lastError = undefined;
        return;
      }
      if (current === this.#failedFingerprint) return; // the same content already failed: wait for another change
      const changed = changedFiles(this.#baseline, now);
      this.#lastChange = { at: new Date().toISOString(), files: changed };
      this.#options.log.info({ changed }, 'configuration changed: reloading');
      const result = await this.#reload(changed);
      if (!result.ok) this.#options.log.error({ changed, error: result.error?.message }, 'reload after a configuration change failed; still serving the previous configuration');
    } catch (error) {
      this.#options.log.error({ err: error }, 'watch evaluation failed');
    } finally {
      this.#evaluating = false;
      if (this.#again) {
        this.#again = false;
        this.#settle.poke();
      }
    }
  }
}

/** Everything haproxy reads for this configuration: its files and the files they reference. */
function filesOf(config: LoadedConfig): string[] {
  return [...new Set([...config.files, ...configReferences(config)])].sort();
}

/** sha256 of zero bytes: a config file caught between truncate and write. */
const EMPTY_DIGEST = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
