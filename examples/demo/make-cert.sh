#!/usr/bin/env bash
# Makes the demo's self-signed certificate (key and certificate in one PEM, as haproxy's `crt` wants).
set -euo pipefail
dir="$(dirname "$0")/certs"
mkdir -p "$dir"
[ -s "$dir/demo.pem" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
cat "$tmp/cert.pem" "$tmp/key.pem" > "$dir/demo.pem"
chmod 600 "$dir/demo.pem"
echo "wrote $dir/demo.pem"
