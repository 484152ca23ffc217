#!/usr/bin/env bash
# bench-migrate.sh — part of `make bench`: `seaftier-admin migrate
# --from-storage` against `aws s3 cp --recursive` of the same files, with
# the same number of requests in flight, on the same S3 server.
#
# A Seafile storage dir of BENCH_MIGRATE_SMALL blocks of 4 KiB and
# BENCH_MIGRATE_LARGE blocks of 4 MiB (real ids: SHA-1 of the bytes, spread
# over 16 libraries) is built once; each size is migrated into a fresh
# bucket by seaftier and copied by awscli into another. Transport as in the
# upload benchmark: SigV4, path style, plain http on loopback, no SSE-C on
# either side. Timed: the whole command (listing, reading, id checks, PUTs,
# the resume state) against the whole `aws s3 cp`.
#
# Targets: objects/s of 4 KiB objects >= 2x awscli's, MB/s of 4 MiB objects
# >= 1x awscli's.
#
# Environment:
#   BENCH_MIGRATE_SMALL  4 KiB objects (100000)
#   BENCH_MIGRATE_LARGE  4 MiB objects (200)
#   BENCH_MIGRATE_JOBS   requests in flight, both sides (16)
#   BENCH_STRICT         1: exit 1 when a target is missed (default 0)
#   BENCH_KEEP           1: keep the scratch directory
#   BENCH_RGW_DIR        the S3 server instance (/tmp/seaftier-s3-bench); stopped at the
#                        end unless it was running before
set -euo pipefail

B=${BENCH_BUILDDIR:?run through make bench}
S=${BENCH_SRCDIR:?run through make bench}
SMALL=${BENCH_MIGRATE_SMALL:-100000}
LARGE=${BENCH_MIGRATE_LARGE:-200}
JOBS=${BENCH_MIGRATE_JOBS:-16}
export SEAFTIER_RGW_DIR=${BENCH_RGW_DIR:-/tmp/seaftier-s3-bench}

work=$(mktemp -d "${TMPDIR:-/tmp}/seaftier-bench-migrate-XXXXXX")
buckets=()
rgw_was_up=0
[ -e "$SEAFTIER_RGW_DIR/.rgw-up" ] && rgw_was_up=1
say() { printf '%s\n' "$*" >&2; }

cleanup() {
  local rc=$?
  if [ "${#buckets[@]}" -gt 0 ] && [ -n "${RGW_ENDPOINT:-}" ]; then
    for b in "${buckets[@]}"; do
      aws --endpoint-url "$RGW_ENDPOINT" s3 rb --force "s3://$b" >/dev/null 2>&1 || true
    done
  fi
  [ "$rgw_was_up" = 1 ] || "$S/tests/s3server/ensure-rgw.sh" --stop || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "scratch directory kept: $work"; else rm -rf -- "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rgw_env=$("$S/tests/s3server/ensure-rgw.sh" 2>"$work/rgw.log") || {
  say "bench-migrate: the test S3 server could not be started:"; cat "$work/rgw.log" >&2; exit 1; }
RGW_ENDPOINT=$(sed -n 's/^RGW_ENDPOINT=//p' <<<"$rgw_env")
export AWS_ACCESS_KEY_ID=$(sed -n 's/^RGW_ACCESS_KEY=//p' <<<"$rgw_env")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^RGW_SECRET_KEY=//p' <<<"$rgw_env")
unset rgw_env
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
: >"$AWS_SHARED_CREDENTIALS_FILE"
cat >"$AWS_CONFIG_FILE" <<CONF
[default]
s3 =
    max_concurrent_requests = $JOBS
    addressing_style = path
CONF

# storage/<kind>/blocks/<repo>/<id[0:2]>/<id[2:]>, ids = SHA-1 of the bytes.
say "bench-migrate: building a storage dir of $SMALL x 4 KiB and $LARGE x 4 MiB blocks"
python3 - "$work" "$SMALL" "$LARGE" <<'PY'
import hashlib, os, sys, uuid
work, small, large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
repos = [str(uuid.uuid4()) for _ in range(16)]
for kind, n, size in (("small", small, 4096), ("large", large, 4 << 20)):
    for i in range(n):
        data = os.urandom(size)
        oid = hashlib.sha1(data).hexdigest()
        d = os.path.join(work, kind, "blocks", repos[i % len(repos)], oid[:2])
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, oid[2:]), "wb") as f:
            f.write(data)
PY

results=$work/results.txt
: >"$results"
now() { date +%s%N; }

run_kind() {   # KIND COUNT BYTES_EACH
  local kind=$1 n=$2 each=$3 t0 t1 conf listed aws_bucket
  mkdir -p "$work/conf-$kind"
  conf=$("$B/tests/bench/bench_conf" "$work/conf-$kind" "bm-$kind-$$" 2>>"$work/conf.log") || {
    say "bench-migrate: cannot write a seafile.conf:"; cat "$work/conf.log" >&2; exit 1; }
  while read -r b; do buckets+=("$b"); done < <(sed -n 's/^bucket = //p' "$conf")
  sync
  say "  seaftier-admin migrate ($kind) ..."
  t0=$(now)
  "$B/tools/seaftier-admin" migrate -c "$work/conf-$kind" --from-storage "$work/$kind" \
    --jobs "$JOBS" --json >"$work/migrate-$kind.json" 2>"$work/migrate-$kind.log" || {
    say "bench-migrate: migrate failed:"; tail -n 20 "$work/migrate-$kind.log" >&2; exit 1; }
  t1=$(now)
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["copied"] == int(sys.argv[2]) and d["failed"] == 0 else 1)' \
    "$work/migrate-$kind.json" "$n" || { say "bench-migrate: migrate did not copy $n objects"; exit 1; }
  awk -v a="$t0" -v b="$t1" -v n="$n" -v e="$each" -v k="$kind" 'BEGIN { s = (b - a) / 1e9
    printf "tier.%s.objps %.6g\ntier.%s.MBps %.6g\ntier.%s.seconds %.6g\n", k, n / s, k, n * e / s / 1e6, k, s }' >>"$results"

  aws_bucket=bm-aws-$kind-$$-$RANDOM
  aws --endpoint-url "$RGW_ENDPOINT" s3 mb "s3://$aws_bucket" >"$work/aws-mb.log" 2>&1 || {
    say "bench-migrate: aws s3 mb failed:"; cat "$work/aws-mb.log" >&2; exit 1; }
  buckets+=("$aws_bucket")
  sync
  say "  aws s3 cp --recursive ($kind) ..."
  t0=$(now)
  aws --endpoint-url "$RGW_ENDPOINT" s3 cp --recursive --only-show-errors \
    "$work/$kind/blocks" "s3://$aws_bucket/" >"$work/aws-$kind.log" 2>&1 || {
    say "bench-migrate: aws s3 cp failed:"; tail -n 20 "$work/aws-$kind.log" >&2; exit 1; }
  t1=$(now)
  listed=$(aws --endpoint-url "$RGW_ENDPOINT" s3 ls --recursive "s3://$aws_bucket/" | wc -l)
  [ "$listed" = "$n" ] || { say "bench-migrate: awscli uploaded $listed of $n objects"; exit 1; }
  awk -v a="$t0" -v b="$t1" -v n="$n" -v e="$each" -v k="$kind" 'BEGIN { s = (b - a) / 1e9
    printf "aws.%s.objps %.6g\naws.%s.MBps %.6g\naws.%s.seconds %.6g\n", k, n / s, k, n * e / s / 1e6, k, s }' >>"$results"
}
run_kind small "$SMALL" 4096
run_kind large "$LARGE" 4194304

val() { sed -n "s/^$1 //p" "$results"; }
misses=0
report() {   # WHAT TIER AWS TARGET UNIT
  local ratio ok
  ratio=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.2f", a / b }')
  ok=$(awk -v r="$ratio" -v t="$4" 'BEGIN { print (r >= t) ? "ok" : "MISSED" }')
  [ "$ok" = ok ] || misses=$((misses + 1))
  printf '  %-30s %10.1f %10.1f %s  %6sx (target >= %sx) %s\n' "$1" "$2" "$3" "$5" "$ratio" "$4" "$ok"
}
echo "migrate from a storage dir: seaftier-admin migrate vs aws s3 cp --recursive, $JOBS in flight"
printf '  %-30s %10s %10s\n' "" "seaftier" "awscli"
report "$SMALL x 4 KiB objects/s" "$(val tier.small.objps)" "$(val aws.small.objps)" 2 "obj/s"
report "$LARGE x 4 MiB MB/s" "$(val tier.large.MBps)" "$(val aws.large.MBps)" 1 "MB/s "
printf '  seconds: seaftier %.1f + %.1f, awscli %.1f + %.1f\n' "$(val tier.small.seconds)" \
  "$(val tier.large.seconds)" "$(val aws.small.seconds)" "$(val aws.large.seconds)"
[ "${BENCH_STRICT:-0}" = 1 ] && [ "$misses" -gt 0 ] && exit 1
exit 0
