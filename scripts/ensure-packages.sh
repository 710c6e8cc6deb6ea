#!/usr/bin/env bash
# Installs what the supervisor, its tests and its bench need from Debian's packages when missing (as root):
# haproxy; ab (apache2-utils) for the bench and its smoke test; openssl for the demo's certificate; as root, systemd
# (the units' tests boot it in a private namespace) with pgrep (procps) and python3 (sd_notify), and tini (the bin
# execs it when it runs as PID 1; the container test runs the daemon so). Otherwise says how.
# --with-promtool (CI): also promtool (Debian package prometheus, without its recommends), which lints /metrics.
set -e
missing=()
extra=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
command -v ab >/dev/null 2>&1 || missing+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "$(id -u)" -eq 0 ]; then
  [ -x /lib/systemd/systemd ] && command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  command -v pgrep >/dev/null 2>&1 || missing+=(procps)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  command -v tini >/dev/null 2>&1 || missing+=(tini)
fi
[ "${1:-}" = --with-promtool ] && ! command -v promtool >/dev/null 2>&1 && extra+=(prometheus)
[ "${#missing[@]}" -eq 0 ] && [ "${#extra[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing: ${missing[*]} ${extra[*]}. Run 'sudo apt-get install -y ${missing[*]} ${extra[*]}' first." >&2
  exit 1
fi
DEBIAN_FRONTEND=noninteractive apt-get update
[ "${#missing[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
[ "${#extra[@]}" -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${extra[@]}"
