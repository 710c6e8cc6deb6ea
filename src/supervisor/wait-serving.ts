import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { showInfo } from '../haproxy/runtime-api.js';
import type { Generation } from './generation.js';

/** Why a generation did not come to serve. */
export type NotServing = { reason: 'exited' | 'timeout'; detail: string };

/** How often the socket's appearance is checked besides inotify, which tells at once (a safety net, not the path). */
const APPEAR_CHECK_MS = 100;

/**
 * Waits until the generation proves it serves: `show info` on its own socket answers with its pid, which haproxy
 * only does from its event loop, after every listener is bound. haproxy creates that socket (bind to a temporary
 * name, then rename) only once it has parsed its configuration and loaded its certificates, which can take seconds:
 * until then the wait sleeps on inotify for the socket to appear instead of polling (a poll every few ms cost about
 * 150 failed connects per second of start-up: tens of ms of the supervisor's CPU per reload with large configs).
 * Once the socket is there, one `show info` waits in its backlog until the event loop answers.
 */
export async function waitServing(generation: Generation, timeoutMs: number): Promise<NotServing | undefined> {
  const deadline = performance.now() + timeoutMs;
  const socket = generation.record.socket;
  const appeared = socketAppearance(socket);
  const exited = generation.exited.then(() => 'exited' as const);
  let lastError = 'no answer yet';
  try {
    while (performance.now() < deadline) {
      if (!generation.isLive()) return { reason: 'exited', detail: 'haproxy exited before it served' };
      if (!existsSync(socket)) {
        const left = deadline - performance.now();
        const outcome = await Promise.race([appeared.next(Math.min(APPEAR_CHECK_MS, Math.max(0, left))), exited]);
        if (outcome === 'exited') return { reason: 'exited', detail: 'haproxy exited before it served' };
        continue;
      }
      try {
        const info = await showInfo(socket, Math.max(50, Math.min(1000, deadline - performance.now())));
        if (info.get('Pid') === String(generation.pid)) return undefined;
        lastError = `socket answered for pid ${info.get('Pid') ?? 'unknown'}`;
      } catch (error) {
        lastError = (error as Error).message;
      }
      // Renamed into place but not listening yet, or the answer of another process: try again very soon.
      await sleep(2);
    }
  } finally {
    appeared.close();
  }
  return { reason: 'timeout', detail: `no ready answer on ${socket} within ${timeoutMs}ms (${lastError})` };
}

/** Tells when something happens in the socket's directory (inotify), or after `ms` at the latest. */
function socketAppearance(socket: string): { next(ms: number): Promise<void>; close(): void } {
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path.dirname(socket), { persistent: false }, () => wake?.());
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // no inotify: the periodic check alone
  }
  return {
    next(ms) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve();
        }, ms);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
    },
    close() {
      watcher?.close();
    },
  };
}
