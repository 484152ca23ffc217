#!/usr/bin/env bash
# migrate-roundtrip.sh — `seaftier-admin migrate` and `export` proven with real seaf-servers:
#   (a) the STOCK seaf-server (fs backend) on a fresh seafile-data: libraries and files made
#       through its HTTP API (tests/seafile/library-manifest.py: empty, 1 byte, KiB, > 8 MiB,
#       nested directories, versions), then stopped;
#   (b) `migrate --from-storage <seafile-data>/storage --verify` into three new SSE-C buckets
#       (https, V4) with nothing else having opened the tier; the storage directory is moved
#       away, the PATCHED seaf-server (all three types `name = s3`, seaftierd beside it) serves
#       every file and every older version byte-identical, the directory trees and the commit
#       history; more files are uploaded through it (some uploaded by seaftierd and evicted,
#       some left dirty in the tier);
#   (c) `export <dir>/storage --verify` from the buckets (the dirty objects from the tier); every
#       object file of the original storage is in the export with the same bytes; the tier and
#       the buckets' configuration are put aside and the STOCK seaf-server serves every file,
#       including those uploaded in (b), from the exported storage.
# Every check prints PASS/FAIL naming what differs (library and path, object file); ends with
# "N passed, M failed" and exits 1 if M > 0.
#
# Usage: tests/seafile/migrate-roundtrip.sh PREFIX     (PREFIX from scripts/build-seaf-server.sh)
# Env:   SEAFILE_MIGRATE_WORK (default /tmp/seaftier-seafile-migrate): data, logs, manifest.
#        SEAFTIER_RGW_DIR: the test RGW (default: the shared one, tests/s3server/ensure-rgw.sh).
#        SEAFILE_TESTS_LOCKED=1: the caller holds /tmp/seafile-tests.lock (port 8082 is one
#        server's at a time), as run-seafile-tests.sh does when it runs this.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# = 1 ] || { echo "usage: $0 PREFIX" >&2; exit 2; }
WORK=${SEAFILE_MIGRATE_WORK:-/tmp/seaftier-seafile-migrate}
DATA=$WORK/data
MANIFEST=$WORK/manifest.json
PY=/usr/bin/python3
note() { printf '\n=== %s ===\n' "$*"; }

if [ "${SEAFILE_TESTS_LOCKED:-}" != 1 ]; then
  exec 8>/tmp/seafile-tests.lock
  flock 8
fi
# shellcheck source=tests/seafile/seafile-env.sh
. "$here/seafile-env.sh" "$1" || exit 1
rm -rf "$WORK"
mkdir -p "$WORK"

passed=0 failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { # the copies of the libraries are kept only when something failed
  [ "$failed" = 0 ] && rm -rf "$DATA" "$WORK/storage-stock" "$WORK/export" "$WORK/tier-set-aside"
  echo "logs: $WORK"; echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit
}
# abort WHAT — a step the rest depends on failed
abort() { fail "$*"; finish; }

buckets_made=
cleanup() {
  seafenv_stop 2>/dev/null
  if [ -n "$buckets_made" ]; then  # the test S3 server keeps objects in RAM
    for t in commits fs blocks; do
      timeout 120 radosgw-admin -c "$RGW_CONF" bucket rm --bucket="$SEAFENV_BUCKET_PREFIX-$t" \
        --purge-objects >/dev/null 2>&1
    done
  fi
}
trap cleanup EXIT

manifest() { # create|add|check ... — library-manifest.py against the running server
  (eval "$(seafenv_exports)"; "$PY" "$here/library-manifest.py" "$@")
}
# json_check FILE EXPR — EXPR (python, on the JSON object d) holds for FILE's JSON
json_check() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"; }
# object_files DIR — the object files of a storage dir: TYPE/REPO/xx/yyyy..., sorted
object_files() {
  (cd "$1" && find commits fs blocks -type f -regextype posix-extended \
     -regex '[a-z]+/[0-9a-f-]{36}/[0-9a-f]{2}/[0-9a-f]{38}' 2>/dev/null | sort)
}
index_complete() { # TYPE — the tier's index of TYPE is marked complete for its bucket
  local v
  v=$(sqlite3 "$DATA/seafile-data/seaftier/index.db" \
        "SELECT value FROM meta WHERE key = 'complete/$1'" 2>/dev/null)
  [ "$v" = "$SEAFENV_BUCKET_PREFIX-$1" ]
}

note "(a) stock seaf-server, fs backend: libraries made through the HTTP API"
seafenv_rgw || abort "the test RGW does not start"
seafenv_setup stock "$DATA" && seafenv_start || abort "stock seaf-server does not start"
if manifest create "$MANIFEST" && manifest check "$MANIFEST"; then pass "stock: files uploaded and read back"
else abort "stock: upload or read-back"; fi
seafenv_stop
mv "$DATA/seafile-data/storage" "$WORK/storage-stock" || abort "no storage directory after (a)"
object_files "$WORK/storage-stock" >"$WORK/stock-objects.txt"
n_stock=$(wc -l <"$WORK/stock-objects.txt")
echo "stock storage: $n_stock object files"

note "(b) migrate --from-storage into new SSE-C buckets, then the patched seaf-server on them"
SEAFENV_BUCKET_PREFIX=seafile-migrate-$(date +%s)-$$
buckets_made=1
seafenv_configure tier "$DATA" || abort "cannot configure the tier (buckets)"
[ ! -e "$DATA/seafile-data/seaftier" ] || abort "the tier exists before migrate"
start=$(date +%s)
seafenv_admin migrate --from-storage "$WORK/storage-stock" --verify --json \
  >"$WORK/migrate.json" 2>"$WORK/migrate.err"
rc=$?
secs_migrate=$(( $(date +%s) - start ))
cat "$WORK/migrate.json" "$WORK/migrate.err"
if [ $rc = 0 ] && json_check "$WORK/migrate.json" \
     "d['listed'] == $n_stock and d['copied'] == $n_stock and d['failed'] == 0 and d['verified']"; then
  pass "migrate: $n_stock objects copied and verified (${secs_migrate} s)"
else
  abort "migrate: exit $rc, expected $n_stock objects copied and verified"
fi
# The buckets were empty when migrate opened the tier: its index knows every object in them, so
# seaf-server's exists() of an object not in the index needs no request (no index-remote step).
incomplete=
for t in commits fs blocks; do index_complete $t || incomplete="$incomplete $t"; done
if [ -z "$incomplete" ]; then pass "after migrate the tier's index is complete for every bucket"
else fail "after migrate the tier's index is not complete for:$incomplete"; fi

seafenv_start || abort "patched seaf-server does not start"
if manifest check "$MANIFEST"; then pass "patched: every migrated file and version byte-identical"
else fail "patched: migrated files differ (above)"; fi
manifest add "$MANIFEST" uploaded || abort "patched: upload after migrate"
seafenv_admin flush --timeout 120 >"$WORK/flush.log" 2>&1 || { cat "$WORK/flush.log"; abort "seaftierd did not upload"; }
seafenv_admin evict --all-clean || abort "evict"
seafenv_kill "$DATA/seaftierd.pid"     # what comes next stays dirty in the tier
manifest add "$MANIFEST" dirty || abort "patched: upload with seaftierd stopped"
if manifest check "$MANIFEST"; then pass "patched: migrated and new files byte-identical"
else fail "patched: files differ after uploads (above)"; fi
seafenv_stop
seafenv_admin status
n_dirty=$(seafenv_admin status --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["dirty_objects"])')
# export must take these from the tier: seaftierd was stopped before they were written
[ "${n_dirty:-0}" -gt 0 ] || fail "no object is dirty in the tier after uploads with seaftierd stopped"
leftover=$(find "$DATA/seafile-data/storage" -type f 2>/dev/null | wc -l)
if [ "$leftover" = 0 ]; then pass "patched: nothing written to the fs layout"
else fail "patched: $leftover files written under seafile-data/storage"; fi
incomplete=
for t in commits fs blocks; do index_complete $t || incomplete="$incomplete $t"; done
if [ -z "$incomplete" ]; then pass "the tier's index is still complete after (b)'s uploads"
else fail "after (b) the tier's index is no longer complete for:$incomplete"; fi

note "(c) export from the buckets (dirty objects from the tier), then the stock seaf-server on it"
start=$(date +%s)
seafenv_admin export "$WORK/export/storage" --verify --json >"$WORK/export.json" 2>"$WORK/export.err"
rc=$?
secs_export=$(( $(date +%s) - start ))
cat "$WORK/export.json" "$WORK/export.err"
object_files "$WORK/export/storage" >"$WORK/export-objects.txt"
n_export=$(wc -l <"$WORK/export-objects.txt")
if [ $rc = 0 ] && json_check "$WORK/export.json" \
     "d['copied'] == $n_export and d['failed'] == 0 and d['gone'] == 0 and d['verified']"; then
  pass "export: $n_export objects written and verified (${secs_export} s; ${n_dirty:-?} were dirty in the tier)"
else
  fail "export: exit $rc, expected $n_export objects copied and verified"
fi
bad=0
while read -r f; do
  if ! cmp -s "$WORK/storage-stock/$f" "$WORK/export/storage/$f"; then
    [ -e "$WORK/export/storage/$f" ] && echo "MISMATCH: exported $f differs from the original" ||
      echo "MISMATCH: $f is missing from the export"
    bad=$((bad + 1))
  fi
done <"$WORK/stock-objects.txt"
if [ $bad = 0 ] && [ "$n_export" -gt "$n_stock" ]; then
  pass "export: all $n_stock original object files byte-identical, $((n_export - n_stock)) new ones"
else
  fail "export: $bad of $n_stock original object files differ or are missing ($n_export exported)"
fi
mv "$WORK/export/storage" "$DATA/seafile-data/storage" || abort "cannot move the export into place"
mv "$DATA/seafile-data/seaftier" "$WORK/tier-set-aside" || abort "cannot set the tier aside"
seafenv_configure stock "$DATA" || abort "cannot configure the stock server"
seafenv_start || abort "stock seaf-server does not start on the export"
if manifest check "$MANIFEST"; then pass "stock on the export: every file and version byte-identical"
else fail "stock on the export: files differ (above)"; fi
seafenv_stop
echo "timings: migrate ${secs_migrate} s, export ${secs_export} s"
finish
