#!/usr/bin/env bash
# run-all.sh — every test of the project, as CI runs them:
#   1. a normal build: unit tests + integration tests against a real S3 server
#      (Ceph RGW on 127.0.0.1, started by the tests themselves);
#   2. the S3 client matrix, the backend conformance suite, the daemon tests
#      and the SSE-C proof once more against a second S3 server (OpenStack
#      Swift + s3api, started by the tests; SEAFTIER_S3_SERVER=swift);
#   2b. the unit tests once more under valgrind (no leaks, no errors);
#   3. an AddressSanitizer + UndefinedBehaviorSanitizer build running all tests again;
#   4. the fuzz targets for a bounded time (FUZZ_SECONDS, default 20 each);
#   5. Seafile's own seaf-server: built stock and patched for libseaftier from ../shared/vendor/
#      (scripts/build-seaf-server.sh into SEAFTIER_SEAFILE_PREFIX, default /tmp/seaftier-seafile,
#      reused when built from the same inputs), then seafile-server's pytest suite on both
#      (tests/seafile/run-seafile-tests.sh).
# Ends with a line "N passed, M failed" and exits non-zero if anything failed.
# The S3 servers are stopped at the end if this run started them.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export SEAFTIER_RGW_DIR=${SEAFTIER_RGW_DIR:-/tmp/seaftier-s3}
export SEAFTIER_SWIFT_DIR=${SEAFTIER_SWIFT_DIR:-/tmp/seaftier-swift}
JOBS=${JOBS:-2}
passed=0 failed=0
failures=()

# note NAME: starts a phase, printing how long the previous one took
note() {
  [ -n "${phase_name:-}" ] && printf '(%s took %d s; %d s in all)\n' "$phase_name" $((SECONDS - phase_t0)) "$SECONDS"
  phase_name=$*; phase_t0=$SECONDS
  printf '\n=== %s ===\n' "$*"
}
count_suite() { # builddir phase — adds automake's totals for the phase
  local log=$1/test-suite.log p f e
  [ -f "$log" ] || { failed=$((failed + 1)); failures+=("$2: no test-suite.log"); return; }
  p=$(sed -n 's/^# PASS: *\([0-9]*\)/\1/p' "$log"); f=$(sed -n 's/^# FAIL: *\([0-9]*\)/\1/p' "$log")
  e=$(sed -n 's/^# ERROR: *\([0-9]*\)/\1/p' "$log")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0} + ${e:-0}))
  [ "${f:-0}" = 0 ] && [ "${e:-0}" = 0 ] || failures+=("$2: $(grep -E '^(FAIL|ERROR):' "$log" | tr '\n' ' ')")
}

"$top/scripts/install-deps.sh" || exit 1
rgw_was_up=0
# a server that was already up (a developer's) is left running
[ -e "$SEAFTIER_RGW_DIR/.rgw-up" ] && rgw_was_up=1
swift_was_up=0
[ -e "$SEAFTIER_SWIFT_DIR/.swift-up" ] && swift_was_up=1
cleanup() {
  [ "$rgw_was_up" = 1 ] || "$top/tests/s3server/ensure-rgw.sh" --stop
  [ "$swift_was_up" = 1 ] || "$top/tests/s3server/ensure-swift.sh" --stop
}
trap cleanup EXIT

note "bootstrap"
flock /tmp/seaftier-autogen.lock ./autogen.sh >/tmp/seaftier-autogen.log 2>&1 || { cat /tmp/seaftier-autogen.log; exit 1; }

build_and_check() { # dir phase configure-args...
  local dir=$1 phase=$2; shift 2
  note "$phase: configure + build in $dir"
  mkdir -p "$dir"
  (cd "$dir" && "$top/configure" -q "$@" && make -j"$JOBS" >make.log 2>&1) || {
    tail -n 40 "$dir/make.log" 2>/dev/null
    failed=$((failed + 1)); failures+=("$phase: build failed"); return 1; }
  note "$phase: make check"
  (cd "$dir" && make -j"$JOBS" check >check.log 2>&1)
  grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):|^# ' "$dir/check.log" || tail -n 40 "$dir/check.log"
  for t in $(grep -E '^(FAIL|ERROR):' "$dir/check.log" | awk '{print $2}'); do
    echo "---- $t.log (tail) ----"; tail -n 60 "$dir/$t.log" 2>/dev/null
  done
  count_suite "$dir" "$phase"
  # how much the phase left in the test S3 server (its memstore OSD keeps data in RAM)
  local osd_pid
  osd_pid=$(cat "$SEAFTIER_RGW_DIR/run/osd.0.pid" 2>/dev/null) &&
    echo "S3 server OSD resident memory after $phase: $(( $(ps -o rss= -p "$osd_pid" 2>/dev/null || echo 0) / 1024 )) MiB"
}

build_and_check build-ci "normal" --enable-werror
# the S3 matrix prints its table: show it
sed -n '/S3 client matrix/,/^$/p' build-ci/tests/integration/test_s3_matrix.log 2>/dev/null

# The second S3 server: the tests that talk S3 in every mode it supports
# (Swift's s3api ignores SSE-C: those variants prove the refusal instead).
note "swift: S3 tests against OpenStack Swift + s3api"
swift_t0=$SECONDS
mkdir -p build-ci/swift
for t in test_s3_matrix test_backend_conformance test_daemon test_sse_c_proof; do
  if (cd build-ci && SEAFTIER_S3_SERVER=swift SEAFTIER_SRCDIR="$top" SEAFTIER_BUILDDIR="$top/build-ci" \
        "./tests/integration/$t" >"swift/$t.log" 2>&1); then
    echo "PASS: swift $t"; passed=$((passed + 1))
  else
    echo "FAIL: swift $t"; tail -n 60 "build-ci/swift/$t.log"; failed=$((failed + 1)); failures+=("swift $t")
  fi
done
sed -n '/S3 client matrix/,/^$/p' build-ci/swift/test_s3_matrix.log 2>/dev/null
echo "swift phase: $((SECONDS - swift_t0)) s"
[ "$swift_was_up" = 1 ] || "$top/tests/s3server/ensure-swift.sh" --stop

note "valgrind: unit tests"
for t in build-ci/tests/unit/test_*; do
  [ -x "$t" ] && [ ! -d "$t" ] || continue
  case $t in *.o|*.log|*.trs) continue ;; esac
  if (cd build-ci && ./libtool --mode=execute valgrind -q --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes \
        --error-exitcode=99 "../$t" >"../$t.valgrind.log" 2>&1); then
    echo "PASS: valgrind $t"; passed=$((passed + 1))
  else
    echo "FAIL: valgrind $t"; tail -n 40 "$t.valgrind.log"; failed=$((failed + 1)); failures+=("valgrind $t")
  fi
done

# A fresh S3 server for the second build: the first one's objects stay in
# the memstore OSD's RAM otherwise.
[ "$rgw_was_up" = 1 ] || "$top/tests/s3server/ensure-rgw.sh" --stop

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  build_and_check build-asan "asan+ubsan" --enable-sanitizers CC=gcc

if [ -x tests/fuzz/run-fuzz.sh ]; then
  note "fuzz (bounded)"
  if BUILDDIR="$top/build-ci" FUZZ_SECONDS=${FUZZ_SECONDS:-20} tests/fuzz/run-fuzz.sh; then
    echo "PASS: fuzz"; passed=$((passed + 1))
  else
    echo "FAIL: fuzz"; failed=$((failed + 1)); failures+=("fuzz")
  fi
fi

note "seaf-server: build (stock + patched for libseaftier)"
seaf_prefix=${SEAFTIER_SEAFILE_PREFIX:-/tmp/seaftier-seafile}
phase_start=$(date +%s)
if scripts/build-seaf-server.sh "$seaf_prefix" >/tmp/seaftier-seafile-build.log 2>&1; then
  cat /tmp/seaftier-seafile-build.log
  echo "PASS: seaf-server build ($(( $(date +%s) - phase_start )) s)"; passed=$((passed + 1))
  note "seaf-server: seafile-server's test suite, (a) stock vs (b) on the tier over S3"
  phase_start=$(date +%s)
  tests/seafile/run-seafile-tests.sh "$seaf_prefix" 2>&1 | tee /tmp/seaftier-seafile-tests.log
  read -r p f < <(tail -n 1 /tmp/seaftier-seafile-tests.log | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
  [ -n "${p:-}" ] || { p=0; f=1; }
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" = 0 ] || failures+=("seafile-server suite: $f failed (see above)")
  echo "seafile-server suite phase: $(( $(date +%s) - phase_start )) s"
else
  tail -n 40 /tmp/seaftier-seafile-build.log
  echo "FAIL: seaf-server build"; failed=$((failed + 1)); failures+=("seaf-server build")
fi

note "summary"
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
