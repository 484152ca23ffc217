#!/usr/bin/env bash
# run-seafile-tests.sh — seafile-server's own pytest suite (its tests/, the C file server,
# sqlite databases) run twice:
#   (a) stock seaf-server on its fs backend;
#   (b) seaf-server patched for libseaftier, all three object types on the shared test RGW
#       (https, SigV4, SSE-C, buckets of its own), seaftierd beside it.
# Every test that passes in (a) must pass in (b). After each run a full seafserv-gc removes
# the libraries the suite deleted. After (b), once seaftierd has drained, check-s3.py proves that what the suite left is in S3 (a sample read back with the SSE-C key)
# and that what it deleted is gone. Prints the per-test table (a) vs (b), the object counts per
# bucket, the timings, and ends with "N passed, M failed" (exit 1 if M > 0).
# Then (c): tests/seafile/migrate-roundtrip.sh (migrate and export between the two servers).
#
# Usage: tests/seafile/run-seafile-tests.sh PREFIX     (PREFIX from scripts/build-seaf-server.sh)
# Env:   SEAFILE_TESTS_WORK (default /tmp/seaftier-seafile-run): logs, JUnit XML, scratch dirs.
#        SEAFILE_TESTS_ONLY: pytest -k expression (development only).
#        SEAFILE_TESTS_RGW_DIR: the test RGW of phase (b). Default /tmp/seaftier-s3-seafile, one of
#        its own (tests/s3server/ensure-rgw.sh, 6 GiB memstore), stopped at the end if this run
#        started it: the suite leaves ~1.7 GiB of blocks in S3 (test_upload_large_files uploads
#        800 MB of random data), too much for the 4 GiB memstore the other tests share.
# tests/test_gc hard-codes /tmp/seafile-tests (the data dir used here) and the tests hard-code
# port 8082: runs are serialised by /tmp/seafile-tests.lock. tests/test_upload (Go file server
# only) is left out.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ $# = 1 ] || { echo "usage: $0 PREFIX" >&2; exit 2; }
WORK=${SEAFILE_TESTS_WORK:-/tmp/seaftier-seafile-run}
DATA=/tmp/seafile-tests
PY=/usr/bin/python3
note() { printf '\n=== %s ===\n' "$*"; }

exec 8>/tmp/seafile-tests.lock
flock 8
# shellcheck source=tests/seafile/seafile-env.sh
. "$here/seafile-env.sh" "$1" || exit 1
rm -rf "$WORK"
mkdir -p "$WORK"
export SEAFTIER_RGW_DIR=${SEAFILE_TESTS_RGW_DIR:-/tmp/seaftier-s3-seafile}
export RGW_MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-6442450944}
rgw_was_up=0
[ -e "$SEAFTIER_RGW_DIR/.rgw-up" ] && rgw_was_up=1

buckets_made=
cleanup() {
  seafenv_stop 2>/dev/null
  if [ "$rgw_was_up" = 0 ] && [ "$SEAFTIER_RGW_DIR" != /tmp/seaftier-s3 ]; then
    "$top/tests/s3server/ensure-rgw.sh" --stop
    return
  fi
  if [ -n "$buckets_made" ]; then # free the test S3 server's RAM
    for t in commits fs blocks; do
      timeout 120 radosgw-admin -c "$RGW_CONF" bucket rm --bucket="$SEAFENV_BUCKET_PREFIX-$t" \
        --purge-objects >/dev/null 2>&1
    done
    timeout 300 radosgw-admin -c "$RGW_CONF" gc process --include-all >/dev/null 2>&1
  fi
}
trap cleanup EXIT

seafenv_rgw || { echo "0 passed, 1 failed"; exit 1; }
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$WORK/tier-cat" "$here/tier-cat.c" \
  $(PKG_CONFIG_PATH=$SEAF_PREFIX/lib/pkgconfig pkg-config --cflags --libs libseaftier) \
  -Wl,-rpath,"$SEAF_PREFIX/lib" || { echo "0 passed, 1 failed"; exit 1; }

run_suite() { # MODE — seafile-server's pytest suite against a running server
  local mode=$1 start rc
  mkdir -p "$WORK/cwd-$mode"        # test_zip_download writes into the current directory
  start=$(date +%s)
  (eval "$(seafenv_exports)"; cd "$WORK/cwd-$mode" &&
    timeout 1200 "$PY" -m pytest -p no:cacheprovider -o addopts="" -rfE \
      --junitxml="$WORK/$mode.xml" --ignore="$SEAF_SRC/tests/test_upload" \
      ${SEAFILE_TESTS_ONLY:+-k "$SEAFILE_TESTS_ONLY"} "$SEAF_SRC/tests") >"$WORK/$mode.log" 2>&1
  rc=$?
  eval "secs_$mode=$(( $(date +%s) - start ))"
  tail -n 3 "$WORK/$mode.log"
  return $rc
}

run_gc() { # MODE — a full seafserv-gc, as an operator runs it: removes deleted libraries
  local mode=$1 start rc
  start=$(date +%s)
  (eval "$(seafenv_exports)"; seafserv-gc -F "$DATA/conf" -d "$DATA/seafile-data") \
    >"$WORK/$mode-gc.log" 2>&1
  rc=$?
  eval "secs_gc_$mode=$(( $(date +%s) - start ))"
  if [ $rc = 0 ]; then echo "PASS: full seafserv-gc ($mode)"; gc_pass=$((gc_pass + 1))
  else echo "FAIL: full seafserv-gc ($mode) exited $rc"; tail -n 20 "$WORK/$mode-gc.log"; gc_fail=$((gc_fail + 1)); fi
}
gc_pass=0 gc_fail=0

note "(a) stock seaf-server, fs backend"
seafenv_setup stock "$DATA" && seafenv_start || { echo "0 passed, 1 failed"; exit 1; }
run_suite stock
seafenv_kill "$DATA/seaf-server.pid"
run_gc stock
"$PY" "$here/check-s3.py" --stock "$DATA" | tee "$WORK/check-stock.log"
stock_pass=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$WORK/check-stock.log")
stock_fail=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$WORK/check-stock.log")
[ -n "$stock_pass" ] || { stock_pass=0; stock_fail=1; }
seafenv_stop
cp "$DATA/logs/seafile.log" "$WORK/stock-seafile.log" 2>/dev/null

note "(b) seaf-server on libseaftier: three SSE-C buckets on the test RGW (https, V4), seaftierd"
# the RGW frees deleted data only at its GC: free what earlier runs left before filling it again
timeout 300 radosgw-admin -c "$RGW_CONF" gc process --include-all >/dev/null 2>&1
SEAFENV_BUCKET_PREFIX=seafile-suite-$(date +%s)-$$
# debug: seaftierd logs every remote delete, which check-s3.py verifies
SEAFENV_DAEMON_ARGS="--log-level debug"
buckets_made=1
seafenv_setup tier "$DATA" && seafenv_start || { echo "0 passed, 1 failed"; exit 1; }
run_suite tier
seafenv_kill "$DATA/seaf-server.pid"

drain() { # NAME — seaftierd uploads what is dirty and carries the remote deletes
  local start=$(date +%s)
  seafenv_admin flush --timeout 300 >"$WORK/flush-$1.log" 2>&1 || tail -n 5 "$WORK/flush-$1.log"
  for _ in $(seq 1 120); do   # remote deletes are carried by seaftierd's own passes
    [ "$(seafenv_admin ls --state deleted | wc -l)" = 0 ] && break
    sleep 1
  done
  eval "secs_drain_$1=$(( $(date +%s) - start ))"
}
s3_pass=0 s3_fail=0
check_s3() { # STAGE — check-s3.py, counted
  local p f
  RGW_CA_BUNDLE=$RGW_CA_BUNDLE RGW_ACCESS_KEY=$RGW_ACCESS_KEY RGW_SECRET_KEY=$RGW_SECRET_KEY \
  RGW_SSL_ENDPOINT=$RGW_SSL_ENDPOINT \
    "$PY" "$here/check-s3.py" "$1" "$DATA" "$SEAFTIER_BIN/seaftier-admin" "$WORK/tier-cat" \
      "$DATA/logs/seaftierd.log" 20 2>&1 | tee "$WORK/check-s3-$1.log"
  p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$WORK/check-s3-$1.log" | tail -n 1)
  f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$WORK/check-s3-$1.log" | tail -n 1)
  [ -n "$p" ] || { p=0; f=1; }
  s3_pass=$((s3_pass + p)) s3_fail=$((s3_fail + f))
}

note "S3 after (b)'s suite: every commit, fs object and block it left is there"
drain suite
seafenv_admin status
check_s3 suite

note "S3 after a full seafserv-gc on the tier: what it deleted is gone"
run_gc tier
drain gc
check_s3 gc
seafenv_kill "$DATA/seaftierd.pid"
cp "$DATA/logs/seafile.log" "$WORK/tier-seafile.log" 2>/dev/null
cp "$DATA/logs/seaftierd.log" "$WORK/seaftierd.log" 2>/dev/null
# library lines belong in seafile.log, not on seaf-server's stderr
lib_lines=$(grep -c 'seaftier: ' "$DATA/logs/seafile.log" 2>/dev/null)
stderr_lines=$(grep -c 'seaftier' "$DATA/logs/seaf-server.stderr" 2>/dev/null)

note "(c) migrate a stock server's storage to S3, serve it patched, export it back, serve it stock"
SEAFILE_TESTS_LOCKED=1 SEAFILE_MIGRATE_WORK=$WORK/migrate "$here/migrate-roundtrip.sh" "$1" 2>&1 | tee "$WORK/migrate-roundtrip.log"
mig_pass=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$WORK/migrate-roundtrip.log" | tail -n 1)
mig_fail=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$WORK/migrate-roundtrip.log" | tail -n 1)
[ -n "$mig_pass" ] || { mig_pass=0; mig_fail=1; }

note "seafile-server's suite: (a) stock vs (b) tier"
"$PY" "$here/results-table.py" "$WORK/stock.xml" "$WORK/tier.xml" | tee "$WORK/table.log"
t_pass=$(tail -n 1 "$WORK/table.log" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
t_fail=$(tail -n 1 "$WORK/table.log" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
[ -n "$t_pass" ] || { t_pass=0; t_fail=1; }

log_ok=0
if [ "${lib_lines:-0}" -gt 0 ] && [ "${stderr_lines:-0}" = 0 ]; then
  echo "PASS: libseaftier's lines are in seafile.log ($lib_lines), none on seaf-server's stderr"; log_ok=1
else
  echo "FAIL: libseaftier's lines: $lib_lines in seafile.log, $stderr_lines on seaf-server's stderr"
fi

echo "timings: (a) stock suite ${secs_stock:-?} s + full GC ${secs_gc_stock:-?} s;" \
     "(b) tier suite ${secs_tier:-?} s + drain ${secs_drain_suite:-?} s + full GC ${secs_gc_tier:-?} s + drain ${secs_drain_gc:-?} s"
echo "logs: $WORK"
passed=$((t_pass + s3_pass + log_ok + gc_pass + stock_pass + mig_pass))
failed=$((t_fail + s3_fail + 1 - log_ok + gc_fail + stock_fail + mig_fail))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
