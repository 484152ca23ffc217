#!/usr/bin/env bash
# test-ensure-rgw.sh — ensure-rgw.sh never wipes an instance that a live
# process uses (see the rule in ensure-rgw.sh). On an instance of its own (a
# temporary directory, its own ports), never the shared one:
#  1. a user that is gone makes a bucket, then a live user (a process that
#     stays) makes one with an object in it;
#  2. the OSD's nearfull ratio is lowered so that Ceph itself reports the
#     store nearfull: the next call deletes the gone user's bucket only and
#     keeps the instance (same monitor process);
#  3. full: the call fails, naming the live user, and the instance stays;
#  4. `--stop` leaves the instance running while the user lives;
#  5. once the user is gone, a nearfull instance is rebuilt (its buckets go),
#     and `--stop` stops it.
# Skipped in the sanitizer build (nothing in it is compiled).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ENSURE=$here/ensure-rgw.sh
if [ -n "${SEAFTIER_BUILDDIR:-}" ] && grep -q -- '--enable-sanitizers' "$SEAFTIER_BUILDDIR/config.status" 2>/dev/null; then
  echo "SKIP: a shell test; the normal build runs it"
  exit 77
fi

work=$(mktemp -d /tmp/seaftier-ensure-test-XXXXXX)
export SEAFTIER_RGW_DIR=$work/rgw
export RGW_MEMSTORE_BYTES=$((1024 * 1024 * 1024))
unset SEAFTIER_RGW_USER_PID
DIR=$SEAFTIER_RGW_DIR
live_pid=
cleanup() {
  [ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null
  "$here/rgw-down.sh" -d "$DIR" -q -r 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

T0=$SECONDS
fail() { echo "FAIL: $*" >&2; [ -f "$work/err" ] && sed 's/^/  | /' "$work/err" >&2; exit 1; }
step() { echo "[$((SECONDS - T0))s] $*"; }
ceph_() { timeout 30 ceph -c "$DIR/ceph.conf" --connect-timeout 20 "$@"; }
mon_pid() { cat "$DIR/run/mon.a.pid" 2>/dev/null; }

# transient_ensure [ARGS] — ensure-rgw.sh called by a process that is gone
# right after (a `bash -c` that runs it and exits); its stdout goes to
# $work/out, stderr to $work/err, and its status is returned.
transient_ensure() {
  bash -c '"$0" "$@"; rc=$?; exit $rc' "$ENSURE" "$@" >"$work/out" 2>"$work/err"
}

E3B=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855   # SHA-256 of ""
# s3 METHOD PATH [FILE] — a SigV4 request to the instance of $work/out's
# environment; prints the HTTP status, the body to $work/body.
s3() {
  local hash=$E3B args=(-X "$1")
  [ "$1" = HEAD ] && args=(--head)
  if [ -n "${3:-}" ]; then
    hash=$(sha256sum "$3" | cut -d' ' -f1)
    args+=(--data-binary "@$3")
  fi
  curl -s -o "$work/body" -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$ACCESS:$SECRET" -H "x-amz-content-sha256: $hash" "${args[@]}" "$ENDPOINT$2"
}
load_env() {
  ENDPOINT=$(sed -n 's/^RGW_ENDPOINT=//p' "$1") ACCESS=$(sed -n 's/^RGW_ACCESS_KEY=//p' "$1")
  SECRET=$(sed -n 's/^RGW_SECRET_KEY=//p' "$1")
  [ -n "$ENDPOINT" ] && [ -n "$ACCESS" ] && [ -n "$SECRET" ] || fail "incomplete environment in $1"
}
# wait_health WORD — until `ceph health` names WORD (for "ok": names no fullness)
wait_health() {
  local h end=$((SECONDS + 90))
  while :; do
    h=$(ceph_ health 2>/dev/null)
    case $1:$h in
      ok:*full*) ;;
      ok:HEALTH_*) return 0 ;;
      nearfull:*nearfull*) return 0 ;;
      full:*" full osd"*) return 0 ;;
    esac
    [ "$SECONDS" -lt "$end" ] || fail "Ceph did not report $1 within 90 s (health: $h)"
    sleep 1
  done
}
set_ratios() { # nearfull backfillfull full
  ceph_ osd set-nearfull-ratio "$1" >/dev/null 2>&1 && ceph_ osd set-backfillfull-ratio "$2" >/dev/null 2>&1 &&
    ceph_ osd set-full-ratio "$3" >/dev/null 2>&1 || fail "cannot set the OSD full ratios"
}

step "1. a user that is gone, then a live one (instance $DIR)"
transient_ensure || fail "ensure-rgw.sh did not start the instance"
load_env "$work/out"
old_bucket=ensure-old-$$ live_bucket=ensure-live-$$
[ "$(s3 PUT "/$old_bucket")" = 200 ] || fail "cannot create $old_bucket"
first_mon=$(mon_pid)
# the live user: a shell that calls ensure-rgw.sh, then becomes a sleep (same pid)
bash -c '"$0" >"$1" 2>"$1.err" && exec sleep 600' "$ENSURE" "$work/live.env" &
live_pid=$!
for _ in $(seq 300); do [ -s "$work/live.env" ] && break; sleep 0.1; done
[ -s "$work/live.env" ] || fail "the live user's ensure-rgw.sh printed nothing: $(cat "$work/live.env.err")"
ls "$DIR/users/$live_pid-"* >/dev/null 2>&1 || fail "the live user $live_pid is not registered in $DIR/users"
head -c 300000 /dev/urandom >"$work/object"
[ "$(s3 PUT "/$live_bucket")" = 200 ] || fail "cannot create $live_bucket"
[ "$(s3 PUT "/$live_bucket/obj" "$work/object")" = 200 ] || fail "cannot put the live user's object"

step "2. nearfull (as Ceph reports it) with a live user: stale buckets go, the instance stays"
set_ratios 0.0001 0.89 0.9
wait_health nearfull
transient_ensure || fail "ensure-rgw.sh failed on a nearfull instance with a live user"
grep -q "deleted 1 bucket" "$work/err" || fail "the gone user's bucket was not deleted"
[ "$(mon_pid)" = "$first_mon" ] || fail "the instance was rebuilt under its live user"
[ "$(s3 HEAD "/$old_bucket")" = 404 ] || fail "$old_bucket (a gone user's) is still there"
[ "$(s3 GET "/$live_bucket/obj")" = 200 ] && cmp -s "$work/body" "$work/object" ||
  fail "the live user's object is gone or changed"

step "3. full with a live user: refused, nothing wiped"
set_ratios 0.0001 0.00015 0.0002
wait_health full
if transient_ensure; then fail "ensure-rgw.sh succeeded on a full instance"; fi
grep -q "in use by live process(es) $live_pid" "$work/err" || fail "the refusal does not name the live user $live_pid"
[ "$(mon_pid)" = "$first_mon" ] || fail "the instance was rebuilt under its live user"
[ "$(s3 GET "/$live_bucket/obj")" = 200 ] && cmp -s "$work/body" "$work/object" ||
  fail "the live user's object is gone or changed"
set_ratios 0.85 0.90 0.95
wait_health ok

step "4. --stop while the user lives: still running"
transient_ensure --stop || fail "ensure-rgw.sh --stop failed"
grep -q "not stopping" "$work/err" || fail "--stop did not say why it left the instance running"
[ "$(mon_pid)" = "$first_mon" ] && kill -0 "$first_mon" 2>/dev/null || fail "--stop stopped an instance in use"
[ "$(s3 GET "/$live_bucket/obj")" = 200 ] || fail "the live user's object is gone after --stop"

step "5. the user is gone: a nearfull instance is rebuilt, --stop stops it"
kill "$live_pid"; wait "$live_pid" 2>/dev/null; live_pid=
set_ratios 0.0001 0.89 0.9
wait_health nearfull
transient_ensure || fail "ensure-rgw.sh could not rebuild a nearfull instance without users"
grep -q "has no live user - rebuilding" "$work/err" || fail "a nearfull instance without users was not rebuilt"
[ "$(mon_pid)" != "$first_mon" ] || fail "the monitor is the old one"
load_env "$work/out"
[ "$(s3 HEAD "/$live_bucket")" = 404 ] || fail "a rebuilt instance still has $live_bucket"
transient_ensure --stop || fail "ensure-rgw.sh --stop failed"
[ ! -e "$DIR" ] || fail "--stop left $DIR"
step "PASS"
