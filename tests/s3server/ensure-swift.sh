#!/usr/bin/env bash
# ensure-swift.sh — make sure the project's second test S3 server (OpenStack
# Swift + s3api, see swift-up.sh) runs, and print its KEY=VALUE environment
# on stdout.
#
# Idempotent and safe to call from parallel tests: a lock serialises start-up,
# and an instance already answering is reused. The first call that actually
# starts the server records it in DIR/.started-by-ensure so that
# `ensure-swift.sh --stop` stops only what was started this way.
#
# Usage: ensure-swift.sh [--stop]
# Env:   SEAFTIER_SWIFT_DIR (default /tmp/seaftier-swift), plus swift-up.sh's SWIFT_*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DIR=${SEAFTIER_SWIFT_DIR:-/tmp/seaftier-swift}
# The lock is never inherited by the servers (9>&- in swift-up.sh): a server
# holding it would block every later caller.
LOCK=${DIR%/}.start.lock

exec 9>"$LOCK"
flock 9
if [ "${1:-}" = --stop ]; then
  if [ -e "$DIR/.started-by-ensure" ]; then
    "$here/swift-down.sh" -d "$DIR" -q -r 9>&-
  fi
  exit 0
fi

was_up=0
[ -s "$DIR/env" ] && [ -e "$DIR/.swift-up" ] && was_up=1
# Ports: the first free ones, so a developer's own instance on the default
# ports is left alone; a running instance keeps its ports.
out=$("$here/swift-up.sh" -d "$DIR" -p auto -s auto -D "${SWIFT_DNS_NAME:-s3.localhost}" \
      2>"${DIR%/}.up.log" 9>&-) || {
  cat "${DIR%/}.up.log" >&2
  exit 1
}
if [ "$was_up" = 0 ] || [ -e "$DIR/.started-by-ensure" ]; then
  touch "$DIR/.started-by-ensure"
fi
printf '%s\n' "$out"
