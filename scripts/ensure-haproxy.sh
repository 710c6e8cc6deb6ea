#!/usr/bin/env bash
# Installs haproxy from Debian's packages when it is missing (as root); otherwise says how. Sourced or run.
if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy
  else
    echo "haproxy is not installed: run 'sudo apt-get install -y haproxy' first." >&2
    exit 1
  fi
fi
