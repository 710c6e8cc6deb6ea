import { setTimeout as sleep } from 'node:timers/promises';
import { showInfo } from '../haproxy/runtime-api.js';
import type { Generation } from './generation.js';

/** Why a generation did not come to serve. */
export type NotServing = { reason: 'exited' | 'timeout'; detail: string };

/**
 * Waits until the generation proves it serves: `show info` on its own socket answers with its pid, which haproxy
 * only does from its event loop, after every listener is bound. Polls with a short backoff (2 ms → 5 ms).
 */
export async function waitServing(generation: Generation, timeoutMs: number): Promise<NotServing | undefined> {
  const deadline = performance.now() + timeoutMs;
  let delay = 2;
  let lastError = 'no answer yet';
  while (performance.now() < deadline) {
    if (!generation.isLive()) return { reason: 'exited', detail: 'haproxy exited before it served' };
    try {
      const info = await showInfo(generation.record.socket, Math.max(50, Math.min(1000, deadline - performance.now())));
      if (info.get('Pid') === String(generation.pid)) return undefined;
      lastError = `socket answered for pid ${info.get('Pid') ?? 'unknown'}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(delay);
    delay = Math.min(5, delay * 2);
  }
  return { reason: 'timeout', detail: `no ready answer on ${generation.record.socket} within ${timeoutMs}ms (${lastError})` };
}
