import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fragmentPath, SOCKET_ENV } from '../haproxy/supervisor-socket.js';
import { identify, type ProcessIdentity } from '../system/proc.js';
import { processArgv, processCwd, processEnv, processesNamed, sessionId } from '../system/processes.js';

/** An haproxy generation started from a run dir, found by what it runs: its id and socket when its environment says. */
export type RunDirProcess = ProcessIdentity & { id: number | undefined; socket: string | undefined };

/**
 * Every haproxy generation started from `runDir`, whatever state.json says: a process that leads its own session and
 * whose command line is a generation's (`-db`, not `-c`) loading this run dir's `supervisor.cfg`, with its own socket
 * (`gen/<id>.sock` of this run dir) from its environment. A supervisor killed between a spawn and the state.json
 * write that names it leaves exactly such a process; so does one killed mid-upgrade. Paths are compared through
 * realpath, so another spelling of the run dir (/var/run vs /run) still matches.
 */
export function runDirProcesses(runDir: string, candidates: number[] = processesNamed('haproxy')): RunDirProcess[] {
  const fragment = canonical(fragmentPath(runDir));
  const gen = canonical(path.join(runDir, 'gen'));
  const found: RunDirProcess[] = [];
  for (const pid of candidates) {
    const argv = processArgv(pid);
    // A generation leads its own session (spawned with setsid); a process it forked (an external check between fork
    // and exec) has the same argv and environment but not the session.
    if (!argv.includes('-db') || argv.includes('-c') || sessionId(pid) !== pid) continue;
    const cwd = processCwd(pid) ?? '/';
    const loadsFragment = argv.some((arg, index) => argv[index - 1] === '-f' && path.basename(arg) === 'supervisor.cfg' && canonical(path.resolve(cwd, arg)) === fragment);
    if (!loadsFragment) continue;
    const identity = identify(pid);
    if (identity === undefined) continue;
    const socket = processEnv(pid, SOCKET_ENV);
    const match = socket === undefined ? null : /^(\d+)\.sock$/.exec(path.basename(socket));
    const ours = match !== null && socket !== undefined && canonical(path.dirname(socket)) === gen;
    found.push({ ...identity, id: ours ? Number(match[1]) : undefined, socket: ours ? socket : undefined });
  }
  return found;
}

/** The path with every link resolved, or as given when it does not exist (any more). */
function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}
