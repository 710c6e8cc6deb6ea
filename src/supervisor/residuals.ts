import path from 'node:path';
import type { Logger } from 'pino';
import type { GenerationUsage } from '../control/types.js';
import { bindAddresses } from '../haproxy/binds.js';
import { expandConfigPaths } from '../haproxy/config-files.js';
import type { LoadedConfig } from '../haproxy/config-load.js';
import { adoptProcess } from '../system/adopted.js';
import { identify, startDate } from '../system/proc.js';
import { processArgv, processCwd, processesNamed } from '../system/processes.js';
import { EscalationLadder } from './escalation.js';
import { Generation } from './generation.js';
import { measurePids } from './usage.js';

/** An haproxy process that runs this configuration but is no live generation of the registry. */
export type Residual = { pid: number; startTime: number; startedAt: string; ageSeconds: number; argv: string[]; usage: GenerationUsage };

/** How a residual ended under `cleanup`: on its own after the soft stop, or by SIGTERM or SIGKILL. */
export type ResidualOutcome = 'drained' | 'terminated' | 'killed' | 'gone';

/** The config files of an haproxy command line (`-f` files and directories, made absolute), the supervisor's fragment aside. */
export function haproxyConfigFiles(argv: string[], cwd: string): string[] {
  const entries: string[] = [];
  for (let index = 1; index < argv.length; index++) {
    if (argv[index] === '-f' && argv[index + 1] !== undefined) entries.push(path.resolve(cwd, argv[++index] ?? ''));
  }
  return expandConfigPaths(entries).filter((file) => path.basename(file) !== 'supervisor.cfg');
}

/**
 * Seed 000's residual-process script, built in: every haproxy process on this host whose `-f` files are exactly this
 * configuration's, but whose pid is not in `ours` (the registry's live generations). Left by an init script, a
 * crashed wrapper or the 2008 pidfile race. Processes of other configurations are never candidates.
 */
export function findResiduals(config: LoadedConfig, ours: number[]): Residual[] {
  const wanted = [...config.files].sort().join('\n');
  const found: Array<Omit<Residual, 'usage'>> = [];
  for (const pid of processesNamed('haproxy')) {
    if (ours.includes(pid)) continue;
    const argv = processArgv(pid);
    const identity = identify(pid);
    if (identity === undefined || haproxyConfigFiles(argv, processCwd(pid) ?? '/').sort().join('\n') !== wanted) continue;
    const started = startDate(identity.startTime);
    found.push({ pid, startTime: identity.startTime, startedAt: started.toISOString(), ageSeconds: Math.max(0, Math.round((Date.now() - started.getTime()) / 1000)), argv });
  }
  const usage = measurePids(found.map((residual) => residual.pid), bindAddresses(config).map((bind) => bind.port));
  return found.map((residual) => ({ ...residual, usage: usage.get(residual.pid) ?? { listening: false, connections: { client: 0, server: 0 }, rssBytes: 0 } }));
}

/**
 * Ends residuals through the escalation ladder, each identity-checked at every signal: SIGUSR1 (finish the
 * connections), SIGTERM --kill-grace later, SIGKILL --kill-grace after that. Resolves once all are gone.
 */
export async function stopResiduals(residuals: Residual[], killGraceMs: number, log: Logger): Promise<Map<number, ResidualOutcome>> {
  const ladder = new EscalationLadder({ killGraceMs, maxDraining: Number.MAX_SAFE_INTEGER });
  const deadline = new Date(Date.now() + killGraceMs);
  const generations = residuals.map((residual, index) => {
    const record = { id: index + 1, pid: residual.pid, startTime: residual.startTime, startedAt: residual.startedAt, socket: '', state: 'active' as const };
    return new Generation(record, adoptProcess(record), log.child({ pid: residual.pid }));
  });
  const outcomes = new Map<number, ResidualOutcome>();
  for (const generation of generations) {
    if (ladder.drain(generation, deadline) !== 'sent') outcomes.set(generation.pid, 'gone');
  }
  await Promise.all(generations.map((generation) => generation.exited));
  ladder.clear();
  for (const generation of generations) {
    const escalation = generation.record.escalation;
    if (!outcomes.has(generation.pid)) outcomes.set(generation.pid, escalation === 'kill' ? 'killed' : escalation === 'term' ? 'terminated' : 'drained');
  }
  return outcomes;
}
