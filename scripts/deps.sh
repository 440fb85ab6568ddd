#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: a C compiler (cgo:
# the SQLite driver and the race detector), PostgreSQL's server binaries
# (the tests start their own throwaway cluster) and Chromium (the browser
# tests), and Litestream (the replication test). Does nothing when all are
# present.
set -euo pipefail

# Litestream, for the test of the continuous replication steps in
# docs/deploy.md (internal/backup/litestream_test.go skips without it):
# pure Go from the module proxy, pinned; the first build takes 2-3 minutes.
LITESTREAM_VERSION=v0.5.18
gobin="$(go env GOBIN)"
[ -n "$gobin" ] || gobin="$(go env GOPATH)/bin"
if ! command -v litestream >/dev/null 2>&1 && [ ! -x "$gobin/litestream" ]; then
  echo "installing litestream $LITESTREAM_VERSION ..." >&2
  go install "github.com/benbjohnson/litestream/cmd/litestream@$LITESTREAM_VERSION" ||
    echo "scripts/deps.sh: could not install litestream: its test will be skipped" >&2
fi

need=()
# A C compiler: the SQLite driver is cgo, and so is the race detector. Go
# from the official tarball brings none (Debian's golang-go recommends one).
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
# CJK fonts so screenshots of Chinese text are legible.
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "scripts/deps.sh: need ${need[*]}: install them with apt-get (as root)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing ${need[*]} ..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
