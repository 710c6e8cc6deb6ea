import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { generationArgv } from '../haproxy/argv.js';
import { generationSocketPath, SOCKET_ENV } from '../haproxy/supervisor-socket.js';
import { spawnChild } from '../system/spawn.js';
import { Generation, type ExitReason } from './generation.js';

/** What launching a generation needs. */
export type LaunchContext = {
  haproxy: string;
  config: string[];
  fragment: string;
  runDir: string;
  log: Logger;
  /** Called on every record change (state.json). */
  onChange: () => void;
  /** Called once a generation has exited and been retired. */
  onExit: (generation: Generation, reason: ExitReason) => void;
};

/** haproxy's environment: ours minus NOTIFY_SOCKET (only the supervisor talks to systemd), plus its socket. */
export function haproxyEnv(socket: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, [SOCKET_ENV]: socket };
  delete env['NOTIFY_SOCKET'];
  return env;
}

const LEVELS: Array<[RegExp, 'error' | 'warn' | 'info']> = [
  [/^\[(ALERT|EMERG)\]/, 'error'],
  [/^\[WARNING\]/, 'warn'],
];

/** Spawns generation `id`: `haproxy -db … [-x transferFrom]`, its output logged line by line with its id and pid. */
export async function launchGeneration(context: LaunchContext, id: number, transferFrom: string | undefined): Promise<Generation> {
  const socket = generationSocketPath(context.runDir, id);
  await mkdir(path.dirname(socket), { recursive: true, mode: 0o700 });
  await unlink(socket).catch(() => undefined);
  const args = generationArgv({ config: context.config, fragment: context.fragment, transferFrom });
  // Lines can arrive before the Generation object exists; they are kept and handed over.
  const holder: { generation?: Generation } = {};
  const early: string[] = [];
  const child = await spawnChild(context.haproxy, args, {
    env: haproxyEnv(socket),
    onLine(line) {
      const generation = holder.generation;
      if (generation === undefined) {
        early.push(line);
        return;
      }
      generation.remember(line);
      const level = LEVELS.find(([pattern]) => pattern.test(line))?.[1] ?? 'info';
      generation.log[level]({ haproxy: line }, 'haproxy');
    },
  });
  const log = context.log.child({ gen: id, pid: child.pid });
  const spawned = new Generation(id, socket, child, log, context.onChange);
  holder.generation = spawned;
  for (const line of early.splice(0)) spawned.remember(line);
  log.info({ argv: [context.haproxy, ...args] }, 'generation spawned');
  watchExit(spawned, context.onExit);
  return spawned;
}

/** Records how a generation ended, removes its socket and tells the supervisor. */
export function watchExit(generation: Generation, onExit: LaunchContext['onExit']): void {
  void generation.exited.then(async (exit) => {
    const reason = generation.markExited(exit);
    generation.log[reason === 'drained' ? 'info' : 'warn']({ code: exit.code, signal: exit.signal, reason }, 'generation exited');
    await unlink(generation.record.socket).catch(() => undefined);
    onExit(generation, reason);
  });
}
