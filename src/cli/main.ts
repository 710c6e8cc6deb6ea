#!/bin/sh
//bin/true; f=; [ "$1" = run ] && f="--max-semi-space-size=1 --expose-gc"; [ "$$" = 1 ] && [ -z "${HAPROXY_SUPERVISOR_NO_INIT:-}" ] && command -v tini >/dev/null && exec tini -- node $f "$0" "$@"; exec node $f "$0" "$@"
// The two lines above are a shell/JavaScript polyglot, read by /bin/sh when this file runs as the installed bin: to
// JavaScript, line 2 is a comment; to sh it is `//bin/true` (i.e. /bin/true), then the launch.
// - As the PID 1 of a container or PID namespace, it execs tini in front of node: Node cannot reap orphans (libuv
//   waits only for its own children), so without an init the zombies of whatever ends up parented to PID 1 (an
//   exec'd shell's background job, a check script haproxy forked) pile up. tini reaps them and forwards every
//   signal to the daemon, whose SIGTERM is the graceful, deadline-bound stop. HAPROXY_SUPERVISOR_NO_INIT=1 skips
//   it; without tini on PATH the daemon says so at start (system/pid-one.ts).
// - --max-semi-space-size=1, for `run` only: the daemon's allocations are short-lived bursts (one reload = a few KB);
//   a small young generation keeps V8 from growing its heap under reload storms (bench: RSS after 1 000 reloads
//   104 → 73 MiB). V8 reads it only at startup, so it is here, in `start`'s spawn (DAEMON_NODE_FLAGS) and in the
//   docs. Client commands go without: it made their start 7–14 ms slower (more scavenges while modules load).
// - --expose-gc, for `run` only: the control server runs one full collection per 2 MiB of refused oversized requests,
//   so a flood of them cannot pile up dead read buffers (system/reclaim.ts). Nothing else calls it.
//
// Client commands take the fast path (fast.ts: no yargs, no daemon module); everything else the full parser.
const { runFast } = await import('./fast.js');
if (!(await runFast(process.argv.slice(2)))) await import('./full.js');
