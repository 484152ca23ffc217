#!/usr/bin/env bash
# run-main-job.sh — seaftier's main job, end to end, on this machine:
#   1. installs the Debian packages it needs and builds the project;
#   2. starts a real S3 server (Ceph RGW) on 127.0.0.1 and creates the three
#      buckets of a seafile.conf with SSE-C over https;
#   3. starts seaftierd, writes commits, fs objects and blocks through the
#      library as seaf-server does (examples/seaftier-demo);
#   4. waits for the daemon to upload them and shows `seaftier-admin status`
#      (everything clean), evicts every clean object, and reads all of them
#      back through the library — now from S3 — verifying each against its id,
#      then once more from the local tier;
#   5. builds Seafile's own seaf-server patched for libseaftier (scripts/build-seaf-server.sh,
#      from ../shared/vendor/; quick when already built), runs it on the tier with its own
#      three SSE-C buckets and seaftierd beside it, creates a library, uploads files through
#      its HTTP upload API, downloads them back and compares, then shows `seaftier-admin status`;
#   6. stops the daemons (and the S3 server if it started it).
# Env: N (objects of each type, default 200), SEAFTIER_MAIN_DIR (default /tmp/seaftier-main),
#      SEAFTIER_SEAFILE_PREFIX (where seaf-server is built, default /tmp/seaftier-seafile).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-200}
WORK=${SEAFTIER_MAIN_DIR:-/tmp/seaftier-main}
BUILD=$top/build-main
export SEAFTIER_RGW_DIR=${SEAFTIER_RGW_DIR:-/tmp/seaftier-s3}
step() { printf '\n==> %s\n' "$*"; }

step "packages and build"
"$top/scripts/install-deps.sh"
(cd "$top" && flock /tmp/seaftier-autogen.lock ./autogen.sh >/dev/null 2>&1)
mkdir -p "$BUILD"
(cd "$BUILD" && { [ -f Makefile ] || "$top/configure" -q; } && make -j2 >make.log 2>&1) \
  || { tail -n 30 "$BUILD/make.log"; exit 1; }
ADMIN=$BUILD/tools/seaftier-admin
DAEMON=$BUILD/daemon/seaftierd
DEMO=$BUILD/examples/seaftier-demo

step "S3 server (Ceph RADOS Gateway on 127.0.0.1)"
rgw_was_up=0
[ -e "$SEAFTIER_RGW_DIR/.rgw-up" ] && rgw_was_up=1
env_out=$("$top/tests/s3server/ensure-rgw.sh")
eval "$(grep -E '^RGW_[A-Z_]+=' <<<"$env_out")"
echo "S3 endpoints: $RGW_ENDPOINT (http), $RGW_SSL_ENDPOINT (https, CA $RGW_CA_BUNDLE)"

daemon_pid=
seaf_started=
cleanup() {
  [ -n "$seaf_started" ] && seafenv_stop
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  [ "$rgw_was_up" = 1 ] || "$top/tests/s3server/ensure-rgw.sh" --stop
}
trap cleanup EXIT

step "seafile.conf with three SSE-C buckets (V4, https)"
rm -rf "$WORK"
mkdir -p "$WORK/conf" "$WORK/seafile-data"
chmod 700 "$WORK"
suffix=$(date +%s)
sse_key=$(head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32)
ssl_port=${RGW_SSL_ENDPOINT##*:}
for t in commit fs block; do
  case $t in commit) sec=commit_object_backend ;; fs) sec=fs_object_backend ;; block) sec=block_backend ;; esac
  cat >>"$WORK/conf/seafile.conf" <<CONF
[$sec]
name = s3
bucket = seaftier-main-$t-$suffix
key_id = $RGW_ACCESS_KEY
key = $RGW_SECRET_KEY
use_v4_signature = true
use_https = true
aws_region = us-east-1
host = 127.0.0.1:$ssl_port
path_style_request = true
ca_file = $RGW_CA_BUNDLE
sse_c_key = $sse_key

CONF
done
cat >>"$WORK/conf/seafile.conf" <<CONF
[tier]
dir = $WORK/seafile-data/seaftier
max_size = 2G
ram_cache_size = 64M
CONF
chmod 600 "$WORK/conf/seafile.conf"
"$DEMO" -c "$WORK/conf" -d "$WORK/seafile-data" create-buckets
"$ADMIN" check -c "$WORK/conf" -d "$WORK/seafile-data"

step "seaftierd"
"$DAEMON" -c "$WORK/conf" -d "$WORK/seafile-data" -f --log-file "$WORK/seaftierd.log" &
daemon_pid=$!
sleep 1
kill -0 "$daemon_pid" || { cat "$WORK/seaftierd.log"; exit 1; }

step "write $N commits, $N fs objects and $N blocks through the library (need_sync)"
"$DEMO" -c "$WORK/conf" -d "$WORK/seafile-data" write "$N" "$WORK/manifest"

step "the daemon uploads them (flush waits until S3 confirmed every one)"
"$ADMIN" flush -c "$WORK/conf" -d "$WORK/seafile-data" --timeout 300
"$ADMIN" status -c "$WORK/conf" -d "$WORK/seafile-data"

step "evict every clean object, then read everything back from S3 through the library"
"$ADMIN" evict --all-clean -c "$WORK/conf" -d "$WORK/seafile-data"
"$DEMO" -c "$WORK/conf" -d "$WORK/seafile-data" read "$WORK/manifest"

step "read everything once more: now served from the local tier"
"$DEMO" -c "$WORK/conf" -d "$WORK/seafile-data" read "$WORK/manifest"
"$ADMIN" status -c "$WORK/conf" -d "$WORK/seafile-data"
kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
daemon_pid=

step "Seafile's own server on the tier: build seaf-server patched for libseaftier"
SEAF_PREFIX=${SEAFTIER_SEAFILE_PREFIX:-/tmp/seaftier-seafile}
"$top/scripts/build-seaf-server.sh" "$SEAF_PREFIX"
# shellcheck source=tests/seafile/seafile-env.sh
. "$top/tests/seafile/seafile-env.sh" "$SEAF_PREFIX"
exec 8>/tmp/seafile-tests.lock   # port 8082 is seaf-server's: one at a time
flock 8

step "seaf-server + seaftierd on three SSE-C buckets of their own"
SEAFENV_BUCKET_PREFIX=seaftier-main-seaf-$suffix
seafenv_setup tier "$WORK/seaf"
seaf_started=1
seafenv_start
grep -A1 '^\[block_backend\]' "$WORK/seaf/conf/seafile.conf"

step "a library; files uploaded through seaf-server's HTTP upload API, downloaded back, compared"
(eval "$(seafenv_exports)"; /usr/bin/python3 "$top/tests/seafile/upload-download.py" 24 8K 1M 3M)
seafenv_kill "$WORK/seaf/seaf-server.pid"
seafenv_admin flush --timeout 300
seafenv_admin status
echo "seafile.log, libseaftier's lines:"
grep 'seaftier: ' "$WORK/seaf/logs/seafile.log" | tail -n 5
seafenv_stop
seaf_started=

step "done: everything written was uploaded, evicted and read back intact; seaf-server on the tier served uploads and downloads"
