import type { GenerationRecord } from './generation.js';
import type { ReloadResult } from './reload.js';
import type { CrashLoopStatus } from './respawn.js';
import type { WatchStatus } from '../watch/config-watcher.js';

/** `status --json`: stable, documented in the README. */
export type Status = {
  supervisor: {
    pid: number;
    version: string;
    startedAt: string;
    state: 'starting' | 'running' | 'stopping';
    runDir: string;
    config: string[];
    /** process.memoryUsage() in bytes: rss, heapTotal, heapUsed, external. */
    memory: { rss: number; heapTotal: number; heapUsed: number; external: number };
  };
  generations: Array<Pick<GenerationRecord, 'id' | 'pid' | 'state' | 'startedAt' | 'readyAt' | 'drainingSince' | 'deadline' | 'exit'>>;
  lastReload: ReloadResult | null;
  reloads: ReloadResult[];
  crashLoop: CrashLoopStatus & { looping: boolean };
  watch: WatchStatus;
};

/** The public view of a generation record (the socket path and start ticks stay internal). */
export function publicGeneration(record: GenerationRecord): Status['generations'][number] {
  const { id, pid, state, startedAt, readyAt, drainingSince, deadline, exit } = record;
  return { id, pid, state, startedAt, readyAt, drainingSince, deadline, exit };
}
