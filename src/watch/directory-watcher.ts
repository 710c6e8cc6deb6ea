import { statSync, watch, type FSWatcher } from 'node:fs';

/** Why a directory could not be watched, or stopped being watched reliably. */
export type WatchProblem = { directory: string; error: Error };

/**
 * Watches directories, never the files in them: one inotify watch per directory (fs.watch), and any event in any
 * of them (a file written, created, removed or renamed over, a `..data` symlink swapped) is reported, without a
 * name: the content hashes decide what changed. chokidar, used before, also put a watch on every file of each
 * watched directory: a directory of a thousand certificates meant a thousand more watches and objects, which cost
 * the daemon idle CPU and garbage collection on every reload (bench: CPU per reload). A directory replaced by
 * another (same path, new inode) is watched again by `refresh`.
 */
export class DirectoryWatcher {
  readonly #onEvent: () => void;
  readonly #onProblem: (problem: WatchProblem) => void;
  readonly #watched = new Map<string, { watcher: FSWatcher; inode: number }>();

  constructor(onEvent: () => void, onProblem: (problem: WatchProblem) => void) {
    this.#onEvent = onEvent;
    this.#onProblem = onProblem;
  }

  /** Watches exactly `directories` from now on; returns those newly watched (an event before this call is not seen). */
  set(directories: Set<string>): string[] {
    for (const [directory, entry] of this.#watched) {
      if (directories.has(directory)) continue;
      entry.watcher.close();
      this.#watched.delete(directory);
    }
    const added: string[] = [];
    for (const directory of directories) {
      if (this.#watched.has(directory) && this.#inode(directory) === this.#watched.get(directory)?.inode) continue;
      this.#watched.get(directory)?.watcher.close();
      this.#watched.delete(directory);
      if (this.#watch(directory)) added.push(directory);
    }
    return added;
  }

  /** The directories watched now. */
  directories(): string[] {
    return [...this.#watched.keys()].sort();
  }

  close(): void {
    for (const entry of this.#watched.values()) entry.watcher.close();
    this.#watched.clear();
  }

  #watch(directory: string): boolean {
    const inode = this.#inode(directory);
    if (inode === undefined) return false; // not there (yet): the next `set` tries again
    try {
      const watcher = watch(directory, { persistent: false }, () => this.#onEvent());
      watcher.on('error', (error) => {
        watcher.close();
        this.#watched.delete(directory);
        this.#onProblem({ directory, error });
      });
      this.#watched.set(directory, { watcher, inode });
      return true;
    } catch (error) {
      this.#onProblem({ directory, error: error as Error });
      return false;
    }
  }

  #inode(directory: string): number | undefined {
    try {
      const stats = statSync(directory);
      return stats.isDirectory() ? stats.ino : undefined;
    } catch {
      return undefined;
    }
  }
}
