import type { CommandModule } from 'yargs';
import { resolveOptions } from '../../config/options.js';
import { runDirPaths } from '../../config/run-dir.js';
import { sendRequest } from '../../control/client.js';
import { NotRunningError } from '../../errors.js';
import { handle } from '../command.js';
import { configOrKnown, optionalConfig } from '../known-config.js';
import { ExitCode } from '../exit-codes.js';
import { formatResiduals, printJson, printLine } from '../output.js';
import { daemonOptions, type DaemonArgs } from '../shared-options.js';

type CleanupArgs = DaemonArgs & { dryRun: boolean; json: boolean; all: boolean };

/**
 * The registry's live generations: the running supervisor's; when none runs, state.json's and every generation
 * started from this run dir (a supervisor killed mid-reload leaves one state.json does not name), which the next
 * supervisor adopts; none with --all.
 */
async function registryPids(runDir: string, all: boolean): Promise<{ pids: number[]; running: boolean }> {
  try {
    const status = await sendRequest(runDir, { cmd: 'status' }, 10_000);
    return { pids: status.generations.filter((generation) => generation.state !== 'exited').map((generation) => generation.pid), running: true };
  } catch (error) {
    if (!(error instanceof NotRunningError)) throw error;
  }
  if (all) return { pids: [], running: false };
  const { loadState } = await import('../../supervisor/state-file.js');
  const { isSameProcess } = await import('../../system/proc.js');
  const { runDirProcesses } = await import('../../supervisor/run-dir-processes.js');
  const state = await loadState(runDirPaths(runDir).state);
  const recorded = state.generations.filter((record) => record.state !== 'exited' && isSameProcess(record)).map((record) => record.pid);
  return { pids: [...new Set([...recorded, ...runDirProcesses(runDir).map((found) => found.pid)])], running: false };
}

async function cleanup(args: CleanupArgs): Promise<number> {
  const options = resolveOptions({ ...args, config: await configOrKnown(args) });
  const { loadConfig } = await import('../../haproxy/config-load.js');
  const { findResiduals, stopResiduals } = await import('../../supervisor/residuals.js');
  const registry = await registryPids(options.runDir, args.all);
  const residuals = findResiduals(loadConfig(options.config), registry.pids);
  // The socket keeper of a supervisor that is gone (--all, the service's stop): ended first, so that no socket stays
  // open where nobody accepts once the generations below unbind.
  const keepers = args.all && !registry.running ? await endKeepers(options.runDir, args.dryRun) : [];
  if (args.dryRun || residuals.length === 0) {
    if (args.json) printJson({ dryRun: args.dryRun, supervisorRunning: registry.running, residuals, keepers });
    else printLine(formatResiduals(residuals, undefined, keepers));
    return ExitCode.ok;
  }
  const { default: pino } = await import('pino');
  const outcomes = await stopResiduals(residuals, options.killGraceMs, pino({ level: 'silent' }));
  if (args.json) printJson({ dryRun: false, supervisorRunning: registry.running, residuals: residuals.map((residual) => ({ ...residual, outcome: outcomes.get(residual.pid) })), keepers });
  else printLine(formatResiduals(residuals, outcomes, keepers));
  return ExitCode.ok;
}

/** The run dir's socket keepers: ended (SIGTERM, identity-checked, waited for) unless `dryRun`. */
async function endKeepers(runDir: string, dryRun: boolean): Promise<Array<{ pid: number; outcome: 'found' | 'ended' | 'still running' }>> {
  const { findKeepers, keeperGone, signalOrNothing } = await import('../../system/keeper.js');
  const found = findKeepers(runDir);
  if (dryRun) return found.map(({ pid }) => ({ pid, outcome: 'found' as const }));
  for (const identity of found) signalOrNothing(identity);
  return Promise.all(found.map(async (identity) => ({ pid: identity.pid, outcome: (await keeperGone(identity)) ? ('ended' as const) : ('still running' as const) })));
}

export const cleanupCommand: CommandModule<object, CleanupArgs> = {
  command: 'cleanup',
  describe: 'Find haproxy processes running this config that are no live generation (seed 000) and stop them: SIGUSR1, then SIGTERM and SIGKILL after --kill-grace',
  builder: {
    ...daemonOptions,
    config: optionalConfig,
    'dry-run': { type: 'boolean', default: false, describe: 'Only report them' },
    all: { type: 'boolean', default: false, describe: 'With no supervisor running, stop the generations state.json names too (the service’s stop)' },
    json: { type: 'boolean', default: false, describe: 'Print JSON' },
  },
  handler: handle(cleanup),
};
