#!/usr/bin/env bash
# npm run demo: the example backends and haproxy-supervisor on examples/demo/haproxy.cfg, in the foreground,
# with readable logs. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ensure-packages.sh
[ -f dist/cli/main.js ] || npm ci --no-audit --no-fund
bash examples/demo/make-cert.sh

node examples/demo/server.mjs 9000 9001 9002 &
backends=$!
trap 'kill "$backends" 2>/dev/null || true' EXIT
run_dir="${HAPROXY_SUPERVISOR_RUN_DIR:-$PWD/.run/demo}"
cli="node dist/cli/main.js"
cat <<MSG

  haproxy-supervisor demo — http://127.0.0.1:8080/  and  https://127.0.0.1:8443/ (self-signed)
  In another terminal:
    $cli status --run-dir $run_dir          # generations, last reload, what is watched
    $cli reload --run-dir $run_dir          # seamless reload; prints the result
    edit examples/demo/haproxy.cfg           # saved changes reload by themselves (watch)
    $cli maint on --run-dir $run_dir        # maintenance page, flipped live (no new process); maint off to undo
    $cli stop --run-dir $run_dir            # graceful stop (or Ctrl-C here)

MSG
node --max-semi-space-size=1 dist/cli/main.js run -f examples/demo/haproxy.cfg --run-dir "$run_dir"
