#!/usr/bin/env -S node --max-semi-space-size=1
// --max-semi-space-size=1: the daemon's allocations are short-lived bursts (one reload = a few KB); a small young
// generation keeps V8 from growing its heap under reload storms (bench: RSS after 1 000 reloads 104 → 73 MiB).
// V8 reads it only at startup, so it is here, in `start`'s spawn (DAEMON_NODE_FLAGS) and in the docs.
//
// Client commands take the fast path (fast.ts: no yargs, no daemon module); everything else the full parser.
const { runFast } = await import('./fast.js');
if (!(await runFast(process.argv.slice(2)))) await import('./full.js');
