#!/usr/bin/env bash
# Quick start: run haproxy-supervisor on examples/haproxy.cfg in the foreground, with the example backend.
# Installs haproxy (as root) and the npm dependencies when missing. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-packages.sh
[ -f dist/cli/main.js ] || npm ci --no-audit --no-fund

node examples/backend.mjs 8081 &
backend=$!
trap 'kill "$backend" 2>/dev/null || true' EXIT
run_dir="${HAPROXY_SUPERVISOR_RUN_DIR:-$PWD/.run/example}"
cat <<MSG
haproxy-supervisor on examples/haproxy.cfg: http://127.0.0.1:8080/   (run dir: $run_dir)
In another terminal:
  node dist/cli/main.js reload --run-dir $run_dir     # seamless reload, prints the result
  node dist/cli/main.js status --run-dir $run_dir     # generations, last reload
  node dist/cli/main.js stop   --run-dir $run_dir     # graceful stop (or Ctrl-C here)
MSG
node --max-semi-space-size=1 dist/cli/main.js run -f examples/haproxy.cfg --run-dir "$run_dir"
