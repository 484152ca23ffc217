#!/usr/bin/env bash
# seafile-env.sh — set up, start and stop a seaf-server built by
# scripts/build-seaf-server.sh, stock (fs backend) or tier (three S3 backends
# through libseaftier, seaftierd beside it). For tests and benches.
#
# As a library:   . tests/seafile/seafile-env.sh PREFIX
#   seafenv_setup MODE DATA    MODE stock|tier; DATA becomes DATA/{conf,ccnet,seafile-data,logs}
#                              with the sqlite databases of scripts/sql/sqlite/*.sql. For tier,
#                              SEAFENV_BUCKET_PREFIX names the buckets (<prefix>-commits, -fs,
#                              -blocks, created if missing) and SEAFENV_SSE_C_KEY (32 characters)
#                              the SSE-C key; both get defaults. SEAFENV_TIER_CONF: extra lines for
#                              [tier] (mode, max_size...).
#   seafenv_configure MODE DATA  rewrites only DATA/conf/seafile.conf for MODE (same variables,
#                              tier creates the buckets): DATA's libraries from another store
#   seafenv_start              starts seaftierd (tier; SEAFENV_DAEMON_ARGS: more options) and
#                              seaf-server, waits for port 8082
#   seafenv_stop               stops both (what seafenv_start started)
#   seafenv_exports            prints the environment seaf-server's python clients need
#   seafenv_admin ARGS...      seaftier-admin on DATA's config
# As a command:   seafile-env.sh PREFIX MODE DATA setup|start|stop
#   (start leaves the processes running; their pids are in DATA/*.pid).
#
# The test S3 server comes from tests/s3server/ensure-rgw.sh (https endpoint, its CA bundle).
# seaf-server's file server listens on port 8082 (seafile-server's tests hard-code it), so one
# server runs at a time: callers hold the lock `flock /tmp/seafile-tests.lock`.
SEAFENV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SEAFENV_PREFIX=$(cd "$1" && pwd) || return 1 2>/dev/null || exit 1
[ -f "$SEAFENV_PREFIX/env" ] || { echo "seafile-env: $SEAFENV_PREFIX/env missing: run scripts/build-seaf-server.sh" >&2; return 1 2>/dev/null || exit 1; }
# shellcheck disable=SC1091
. "$SEAFENV_PREFIX/env"
# seaf-server refuses to start without it; any value works for tests
export JWT_PRIVATE_KEY=${JWT_PRIVATE_KEY:-seaftier-tests-jwt-private-key-0123456789}
SEAFENV_PORT=8082

seafenv_rgw() { # loads RGW_* from the shared test S3 server
  local out
  out=$(SEAFTIER_RGW_DIR=${SEAFTIER_RGW_DIR:-/tmp/seaftier-s3} "$SEAFENV_TOP/tests/s3server/ensure-rgw.sh") || return 1
  eval "$(grep -E '^RGW_[A-Z_]+=' <<<"$out")"
}

# seafenv_s3 METHOD PATH [curl args...] — a SigV4-signed request to the test RGW (https;
# RGW wants x-amz-content-sha256 signed, which curl does not add by itself)
seafenv_s3() {
  local method=$1 path=$2; shift 2
  curl -sS --fail-with-body --cacert "$RGW_CA_BUNDLE" -X "$method" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" \
    "$RGW_SSL_ENDPOINT$path" "$@"
}
seafenv_setup() {
  SEAFENV_MODE=$1 SEAFENV_DATA=$2
  case $SEAFENV_MODE in stock|tier) ;; *) echo "seafile-env: mode must be stock or tier" >&2; return 1 ;; esac
  local d=$SEAFENV_DATA sql=$SEAF_SRC/scripts/sql/sqlite
  rm -rf "$d"
  mkdir -p "$d/conf" "$d/seafile-data" "$d/logs" "$d/ccnet/misc" "$d/ccnet/GroupMgr" \
           "$d/ccnet/OrgMgr" "$d/ccnet/PeerMgr"
  chmod 700 "$d"
  # as seafile-server's ci/serverctl.py does; ccnet.db holds the same tables for the
  # code paths that open the single ccnet database
  sqlite3 "$d/ccnet/misc/config.db" ".read $sql/config.sql"
  sqlite3 "$d/ccnet/GroupMgr/groupmgr.db" ".read $sql/groupmgr.sql"
  sqlite3 "$d/ccnet/OrgMgr/orgmgr.db" ".read $sql/org.sql"
  sqlite3 "$d/ccnet/PeerMgr/usermgr.db" ".read $sql/user.sql"
  local f
  for f in config groupmgr org user; do sqlite3 "$d/ccnet/ccnet.db" ".read $sql/$f.sql"; done
  sqlite3 "$d/seafile-data/seafile.db" ".read $sql/seafile.sql"
  seafenv_configure "$SEAFENV_MODE" "$d"
}

# seafenv_configure MODE DATA — (re)writes DATA/conf/seafile.conf for MODE, databases and
# objects untouched: the same libraries served from another store. For tier, the buckets are
# created (they must not exist yet).
seafenv_configure() {
  SEAFENV_MODE=$1 SEAFENV_DATA=$2
  case $SEAFENV_MODE in stock|tier) ;; *) echo "seafile-env: mode must be stock or tier" >&2; return 1 ;; esac
  local d=$SEAFENV_DATA
  # [database] without "type" means MySQL to seaf-server
  cat >"$d/conf/seafile.conf" <<CONF
[fileserver]
port = $SEAFENV_PORT

[database]
type = sqlite
CONF
  [ "$SEAFENV_MODE" = tier ] || return 0
  seafenv_rgw || return 1
  SEAFENV_BUCKET_PREFIX=${SEAFENV_BUCKET_PREFIX:-seafenv-$(date +%s)-$$}
  SEAFENV_SSE_C_KEY=${SEAFENV_SSE_C_KEY:-$(head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32)}
  local t sec bucket
  for t in commits fs blocks; do
    case $t in commits) sec=commit_object_backend ;; fs) sec=fs_object_backend ;; blocks) sec=block_backend ;; esac
    bucket=$SEAFENV_BUCKET_PREFIX-$t
    seafenv_s3 PUT "/$bucket" -o /dev/null || { echo "seafile-env: cannot create bucket $bucket" >&2; return 1; }
    cat >>"$d/conf/seafile.conf" <<CONF

[$sec]
name = s3
bucket = $bucket
key_id = $RGW_ACCESS_KEY
key = $RGW_SECRET_KEY
use_v4_signature = true
use_https = true
aws_region = us-east-1
host = ${RGW_SSL_ENDPOINT#https://}
path_style_request = true
ca_file = $RGW_CA_BUNDLE
sse_c_key = $SEAFENV_SSE_C_KEY
CONF
  done
  cat >>"$d/conf/seafile.conf" <<CONF

[tier]
dir = $d/seafile-data/seaftier
${SEAFENV_TIER_CONF:-}
CONF
  chmod 600 "$d/conf/seafile.conf"
  printf 'SEAFENV_BUCKET_PREFIX=%s\n' "$SEAFENV_BUCKET_PREFIX" >"$d/buckets"
}

seafenv_bin() { [ "$SEAFENV_MODE" = tier ] && echo "$SEAF_TIER_BIN" || echo "$SEAF_STOCK_BIN"; }

seafenv_exports() {
  local d=$SEAFENV_DATA
  cat <<ENV
export PATH=$(seafenv_bin):$SEAFTIER_BIN:\$PATH
export PYTHONPATH=$SEAF_SRC:$SEAF_PYTHONPATH
export LD_LIBRARY_PATH=$SEAF_LD_LIBRARY_PATH
export SEAFILE_CENTRAL_CONF_DIR=$d/conf
export CCNET_CONF_DIR=$d/ccnet
export SEAFILE_CONF_DIR=$d/seafile-data
export SEAFILE_MYSQL_DB_CCNET_DB_NAME=ccnet
export JWT_PRIVATE_KEY=$JWT_PRIVATE_KEY
ENV
}

seafenv_admin() { "$SEAFTIER_BIN/seaftier-admin" "$@" -c "$SEAFENV_DATA/conf" -d "$SEAFENV_DATA/seafile-data"; }

seafenv_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$SEAFENV_PORT") 2>/dev/null; }

seafenv_start() {
  local d=$SEAFENV_DATA i
  if seafenv_port_open; then
    echo "seafile-env: port $SEAFENV_PORT is taken (another seaf-server?)" >&2; return 1
  fi
  if [ "$SEAFENV_MODE" = tier ]; then
    # shellcheck disable=SC2086
    "$SEAFTIERD" -c "$d/conf" -d "$d/seafile-data" -f --log-file "$d/logs/seaftierd.log" \
      ${SEAFENV_DAEMON_ARGS:-} &
    echo $! >"$d/seaftierd.pid"
  fi
  (eval "$(seafenv_exports)"; exec "$(seafenv_bin)/seaf-server" -F "$d/conf" -c "$d/ccnet" \
     -d "$d/seafile-data" -l "$d/logs/seafile.log" -f) >"$d/logs/seaf-server.stderr" 2>&1 &
  echo $! >"$d/seaf-server.pid"
  for i in $(seq 1 100); do
    seafenv_port_open && return 0
    kill -0 "$(cat "$d/seaf-server.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "seafile-env: seaf-server ($SEAFENV_MODE) did not start; seafile.log says:" >&2
  tail -n 20 "$d/logs/seafile.log" "$d/logs/seaf-server.stderr" >&2 2>/dev/null
  seafenv_stop
  return 1
}

seafenv_kill() { # pidfile — TERM, then KILL after 10 s
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f"); rm -f "$f"
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null
  return 0
}

seafenv_stop() {
  seafenv_kill "$SEAFENV_DATA/seaf-server.pid"
  seafenv_kill "$SEAFENV_DATA/seaftierd.pid"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  [ $# = 4 ] || { echo "usage: $0 PREFIX stock|tier DATA setup|start|stop" >&2; exit 2; }
  SEAFENV_MODE=$2 SEAFENV_DATA=$3
  case $4 in
    setup) seafenv_setup "$2" "$3" ;;
    start) [ -f "$3/buckets" ] && . "$3/buckets"; seafenv_start ;;
    stop) seafenv_stop ;;
    *) echo "usage: $0 PREFIX stock|tier DATA setup|start|stop" >&2; exit 2 ;;
  esac
fi
