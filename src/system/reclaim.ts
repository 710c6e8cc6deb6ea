/**
 * Frees the read buffers of control requests the daemon refused, once every RECLAIM_AFTER_BYTES of them.
 *
 * A refused line still cost a socket read: a 64 KiB buffer that V8 frees only at its next full collection, and it
 * starts one for such external memory only after tens of MB of it. So a flood of oversized lines from a local client
 * would pile up dead buffers (the hardening test's 100 lines of 60 KiB–1 MiB: +5 MiB resident, more with more lines).
 * Counting them bounds that pile: one full collection per RECLAIM_AFTER_BYTES refused (10–15 ms on the daemon's
 * ~10 MB heap, for MBs the client had to send). Measured by the hardening test: RSS after the flood +4 to +8 % over
 * idle with it, +11 to +21 % before (the bound is +20 %). Needs the daemon's `--expose-gc` (DAEMON_NODE_FLAGS and
 * the bin's launcher line); without it (node run by hand), this does nothing.
 */
export const RECLAIM_AFTER_BYTES = 2 * 1024 * 1024;

let refusedBytes = 0;

/** Records `bytes` read for a request that was refused; collects once they add up to RECLAIM_AFTER_BYTES. */
export function refusedRead(bytes: number, gc = (globalThis as { gc?: () => void }).gc): void {
  refusedBytes += bytes;
  if (refusedBytes < RECLAIM_AFTER_BYTES || gc === undefined) return;
  refusedBytes = 0;
  gc();
}
