#!/usr/bin/env bash
# `npm test`: works on a fresh Debian clone. Installs haproxy and ab (as root) and the npm dependencies when
# they are missing, builds (the CLI and the bench, whose smoke test is in the suite), runs every vitest project, and ends with one plain "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-packages.sh
[ -d node_modules/vitest ] || npm ci --no-audit --no-fund
npm run build
npm run build:bench

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || true
exit "$status"
