#!/usr/bin/env bash
# `npm run test:container`: builds the image (scripts/container-image.sh) and runs the tests against it. Where
# podman cannot run here, the tests are reported as skipped with the reason, never silently.
set -uo pipefail
cd "$(dirname "$0")/../.."

reason_file=$(mktemp)
trap 'rm -f "$reason_file"' EXIT
started=$(date +%s)
bash scripts/container-image.sh 2> >(tee "$reason_file" >&2)
status=$?
if [ "$status" -eq 3 ]; then
  export HS_CONTAINER_UNAVAILABLE="$(tail -n 1 "$reason_file")"
  echo "container tests: skipped ($HS_CONTAINER_UNAVAILABLE)"
elif [ "$status" -ne 0 ]; then
  echo "container image: the build failed (exit $status)" >&2
  exit "$status"
else
  echo "container image: built in $(( $(date +%s) - started )) s"
  eval "$(bash scripts/container-image.sh --env)"
fi
npx vitest run --config test/container/vitest.config.ts "$@"
