import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runtimeCommand } from '../haproxy/runtime-api.js';
import { writeFileAtomic } from './atomic-write.js';
import { KEEPER_SCRIPT } from './keeper-script.js';
import { identify, isSameProcess, readComm, type ProcessIdentity } from './proc.js';
import { processArgv, processesNamed } from './processes.js';
import { signalIdentity } from './signals.js';

/** /proc/<pid>/comm of a keeper: it names itself so (keeper-script.ts). */
export const KEEPER_COMM = 'haproxy-keeper';

/** A socket the keeper holds, as it describes it. */
export type KeptSocket = { family: 'ipv4' | 'ipv6' | 'unix'; address: string; port?: number; type: string; inode?: number };

/** What the keeper says it holds. */
export type KeeperView = { pid: number; sockets: KeptSocket[] };

/** Paths of a run dir's keeper. */
export function keeperPaths(runDir: string): { script: string; socket: string } {
  return { script: path.join(runDir, 'keeper.py'), socket: path.join(runDir, 'keeper.sock') };
}

/** How long the keeper gets to answer a request, or to say it is ready. */
const TIMEOUT_MS = 3000;

/**
 * Starts the keeper: python3 running <run-dir>/keeper.py (written first, 0600), in its own session so that it
 * outlives the supervisor, ready once it says so. Resolves with its identity, or undefined when python3 cannot run.
 */
export async function startKeeper(runDir: string): Promise<ProcessIdentity | undefined> {
  const { script } = keeperPaths(runDir);
  await writeFileAtomic(script, KEEPER_SCRIPT);
  const child = spawn('python3', [script, runDir], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), TIMEOUT_MS);
    child.once('error', () => resolve(false));
    child.once('exit', () => resolve(false));
    if (child.stdout === null) {
      resolve(false);
      return;
    }
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line === 'ready');
    });
  });
  const pid = child.pid;
  if (!ready && child.exitCode === null) child.kill('SIGKILL'); // our child, not yet reaped: it cannot be another process
  child.unref();
  child.stdout?.destroy();
  return ready && pid !== undefined ? identify(pid) : undefined;
}

/** The live keepers of this run dir, found by what they run (comm haproxy-keeper, argv naming its keeper.py). */
export function findKeepers(runDir: string): ProcessIdentity[] {
  const script = canonical(keeperPaths(runDir).script);
  const found: ProcessIdentity[] = [];
  for (const pid of processesNamed(KEEPER_COMM)) {
    const argv = processArgv(pid);
    if (!argv.some((arg) => arg.endsWith('keeper.py') && canonical(arg) === script)) continue;
    const identity = identify(pid);
    if (identity !== undefined) found.push(identity);
  }
  return found;
}

/** True while `identity` is still that keeper. */
export function isKeeper(identity: ProcessIdentity): boolean {
  return isSameProcess(identity) && readComm(identity.pid) === KEEPER_COMM;
}

/** One request to the keeper (`take <path>`, `release`, `status`, `quit`); resolves with what it holds, throws with its reason. */
export async function keeperRequest(runDir: string, request: string): Promise<KeeperView> {
  const reply = (await runtimeCommand(keeperPaths(runDir).socket, request, TIMEOUT_MS)).trim();
  if (!reply.startsWith('ok ')) throw new Error(reply.startsWith('error ') ? reply.slice(6) : `no answer to \`${request.split(' ')[0] ?? ''}\``);
  return JSON.parse(reply.slice(3)) as KeeperView;
}

/** Resolves once the keeper is gone (it was asked to quit), or after `timeoutMs`. */
export async function keeperGone(identity: ProcessIdentity, timeoutMs = TIMEOUT_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isKeeper(identity)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** SIGTERM to a keeper that did not quit when asked (identity-checked). */
export function signalOrNothing(identity: ProcessIdentity): void {
  if (isKeeper(identity)) signalIdentity(identity, 'SIGTERM');
}

function canonical(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}
