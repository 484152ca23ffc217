#!/usr/bin/env bash
# ensure-rgw.sh — make sure the project's test S3 server (Ceph RADOS Gateway,
# see rgw-up.sh) runs, and print its KEY=VALUE environment on stdout.
#
# Idempotent and safe to call from parallel tests: a lock serialises start-up,
# and an instance already answering is reused. The first call that actually
# starts the server records it in DIR/.started-by-ensure so that
# `ensure-rgw.sh --stop` stops only what was started this way.
#
# Usage: ensure-rgw.sh [--stop]
# Env:   SEAFTIER_RGW_DIR (default /tmp/seaftier-s3), plus rgw-up.sh's RGW_*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DIR=${SEAFTIER_RGW_DIR:-/tmp/seaftier-s3}
# The lock is never inherited by the daemons (9>&- below): a daemon holding
# it would block every later caller.
LOCK=${DIR%/}.start.lock

if [ "${1:-}" = --stop ]; then
  exec 9>"$LOCK"
  flock 9
  if [ -e "$DIR/.started-by-ensure" ]; then
    "$here/rgw-down.sh" -d "$DIR" -q -r 9>&-
  fi
  exit 0
fi

exec 9>"$LOCK"
flock 9
was_up=0
[ -s "$DIR/env" ] && [ -e "$DIR/.rgw-up" ] && was_up=1
# A memstore OSD keeps every object in RAM and stops taking writes when its
# device is full (and radosgw-admin then hangs): a full or unresponsive
# cluster is rebuilt from scratch rather than reused.
if [ "$was_up" = 1 ]; then
  health=$(timeout 15 ceph -c "$DIR/ceph.conf" --connect-timeout 10 health 2>/dev/null) || health="unresponsive"
  case $health in
    *full*|unresponsive)
      echo "ensure-rgw: the S3 server in $DIR is $(tr '\n' ' ' <<<"$health")- rebuilding it" >&2
      "$here/rgw-down.sh" -d "$DIR" -q -r 9>&- || true
      was_up=0 ;;
  esac
fi
# Virtual-host buckets are <bucket>.s3.localhost: curl resolves any *.localhost
# name to loopback, and a certificate wildcard needs two labels after the
# "*" (OpenSSL refuses *.localhost).
DNS_NAME=${RGW_DNS_NAME:-s3.localhost}
# Ports: take the first free ones, so a developer's own instance on the
# default ports is left alone; a running instance keeps its ports.
out=$("$here/rgw-up.sh" -d "$DIR" -p auto -s auto -D "$DNS_NAME" 2>"${DIR%/}.up.log" 9>&-) || {
  cat "${DIR%/}.up.log" >&2
  exit 1
}
if [ "$was_up" = 0 ] || [ -e "$DIR/.started-by-ensure" ]; then
  touch "$DIR/.started-by-ensure"
fi
# Buckets the tests use (idempotent: PUT on an owned bucket answers 200).
printf '%s\n' "$out"
