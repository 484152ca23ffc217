#!/usr/bin/env bash
# bench-upload.sh — the upload phase of `make bench` (run by run-bench.sh):
# the uploader seaftierd runs (`seaftier-admin flush --no-daemon`, timed
# from process start to exit by tests/bench/upload/bench_upload) against
# `aws s3 cp --recursive` of the same bytes, both over https with SSE-C (the
# configuration Seafile documents for SSE-C), with the same number of
# requests in flight, to the same S3 server; and seaftier alone through
# tests/bench/latency-proxy adding RTT_MS of round trip, against the limit of
# a window of N requests in flight (N / RTT objects/s).
#
# Rounds take turns (tier small, aws small, tier large, aws large, tier
# through the proxy), ROUNDS times; each round uploads into fresh buckets
# from a freshly prepared tier (not timed), and its buckets are dropped
# afterwards (the test S3 server keeps objects in RAM). Figures are the
# medians over rounds; ratios are the medians of the per-round ratios.
#
# Prints "RESULT key value unit" lines (run-bench.sh keeps them):
#   upload.{tier,aws}.{small,large}.{objps,MBps,seconds}   medians
#   upload.{small,large}.ratio.{objps,MBps}                 median of round ratios
#   upload.proxy.small.{objps,seconds,connections,requests}, upload.proxy.limit.objps,
#   upload.proxy.ratio                                      tier / (N / RTT)
#   upload.config.{rounds,concurrency,rtt_ms,small,large,proxy_small}
#
# Environment:
#   BENCH_UPLOAD_SMALL        4 KiB objects (10000)
#   BENCH_UPLOAD_LARGE        4 MiB objects (200)
#   BENCH_UPLOAD_PROXY_SMALL  4 KiB objects through the proxy (10000)
#   BENCH_UPLOAD_ROUNDS       interleaved rounds (3)
#   BENCH_UPLOAD_RTT_MS       round trip the proxy adds (20)
#   BENCH_UPLOAD_JOBS         requests in flight, both uploaders (16)
#   SEAFTIER_RGW_DIR          the S3 server instance (run-bench.sh sets it)
#   BENCH_KEEP                1: keep the scratch directory
set -euo pipefail

B=${BENCH_BUILDDIR:?run through make bench}
S=${BENCH_SRCDIR:?run through make bench}
N_SMALL=${BENCH_UPLOAD_SMALL:-10000}
N_LARGE=${BENCH_UPLOAD_LARGE:-200}
N_PROXY=${BENCH_UPLOAD_PROXY_SMALL:-10000}
ROUNDS=${BENCH_UPLOAD_ROUNDS:-3}
RTT_MS=${BENCH_UPLOAD_RTT_MS:-20}
JOBS=${BENCH_UPLOAD_JOBS:-16}
UPLOAD=$B/tests/bench/upload/bench_upload
PROXY=$B/tests/bench/latency-proxy

work=$(mktemp -d "${TMPDIR:-/tmp}/seaftier-bench-upload-XXXXXX")
mkdir -p "$work/logs"
pids=()
buckets=()
say() { printf '%s\n' "$*" >&2; }
die() { say "bench-upload: $*"; exit 1; }

drop_buckets() {
  local b
  [ "${#buckets[@]}" -gt 0 ] && [ -n "${RGW_ENDPOINT:-}" ] || return 0
  for b in "${buckets[@]}"; do
    aws --endpoint-url "$RGW_ENDPOINT" s3 rb --force "s3://$b" >/dev/null 2>&1 || true
  done
  buckets=()
  # RGW frees the tails of deleted objects only in its garbage collection:
  # without this the 4 MiB objects of every round pile up in its memory store
  timeout 120 radosgw-admin -c "$RGW_CONF" gc process --include-all >/dev/null 2>&1 || true
}

cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  drop_buckets
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "scratch directory kept: $work"; else rm -rf -- "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rgw_env=$("$S/tests/s3server/ensure-rgw.sh" 2>"$work/logs/rgw.log") ||
  { cat "$work/logs/rgw.log" >&2; die "the test S3 server could not be started"; }
RGW_ENDPOINT=$(sed -n 's/^RGW_ENDPOINT=//p' <<<"$rgw_env")
RGW_SSL_ENDPOINT=$(sed -n 's/^RGW_SSL_ENDPOINT=//p' <<<"$rgw_env")
RGW_CONF=$(sed -n 's/^RGW_CONF=//p' <<<"$rgw_env")
RGW_CA=$(sed -n 's/^RGW_CA_BUNDLE=//p' <<<"$rgw_env")
AWS_ACCESS_KEY_ID=$(sed -n 's/^RGW_ACCESS_KEY=//p' <<<"$rgw_env")
AWS_SECRET_ACCESS_KEY=$(sed -n 's/^RGW_SECRET_KEY=//p' <<<"$rgw_env")
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
unset rgw_env
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
: >"$AWS_SHARED_CREDENTIALS_FILE"
# botocore >= 1.36 sends bodies over https as aws-chunked with a trailing
# CRC32, which this RGW refuses (MissingContentLength): "when_required" makes
# it send a plain body signed with its SHA-256, the way it does over http.
cat >"$AWS_CONFIG_FILE" <<EOF
[default]
request_checksum_calculation = when_required
response_checksum_validation = when_required
s3 =
    max_concurrent_requests = $JOBS
    addressing_style = path
EOF
rgw_ssl_port=${RGW_SSL_ENDPOINT##*:}
# new_conf DIR PREFIX: a seafile.conf (https + SSE-C, three new buckets) with
# upload_concurrency = JOBS; prints its path.
new_conf() {
  local conf
  mkdir -p "$1"
  conf=$("$B/tests/bench/bench_conf" "$1" "$2" https-sse-c 2>>"$work/logs/conf.log") ||
    { cat "$work/logs/conf.log" >&2; die "cannot write a seafile.conf"; }
  printf 'upload_concurrency = %s\n' "$JOBS" >>"$conf"
  echo "$conf"
}
conf_buckets() { sed -n 's/^bucket = //p' "$1"; }

# The proxy: a relay in front of the https port, RTT_MS / 2 each way.
"$PROXY" --to "127.0.0.1:$rgw_ssl_port" --delay-ms "$(awk -v r="$RTT_MS" 'BEGIN { print r / 2 }')" \
  >"$work/proxy.out" 2>"$work/logs/proxy.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/proxy.out" ] && break; sleep 0.05; done
read -r _ proxy_port _ proxy_stats <"$work/proxy.out" || die "latency-proxy did not start"
# proxy_count NAME: the proxy's counter NAME so far ("connections", "requests")
proxy_count() {
  local line
  exec 7<>"/dev/tcp/127.0.0.1/$proxy_stats"
  read -r line <&7
  exec 7<&-
  awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$line"
}

results=$work/results.txt
: >"$results"
val() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "nan" }' "$results"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# tier_flush CONF KIND NAME: times seaftier-admin flush of KIND, results as NAME.
tier_flush() {
  local conf=$1 kind=$2 name=$3
  say "    tier $name ..."
  "$UPLOAD" flush "$conf" "$kind" >"$work/logs/flush-$name.out" 2>"$work/logs/flush-$name.log" ||
    { tail -n 20 "$work/logs/flush-$name.log" "$work/logs/flush-$name.out" >&2; die "flush $name failed"; }
  sed -n 's/^RESULT upload\.tier\.[a-z]*\.\([a-zA-Z]*\) /\1 /p' "$work/logs/flush-$name.out" |
    while read -r m v u; do echo "upload.$name.$m $v $u"; done >>"$results"
}

# aws_cp KIND N BYTES_EACH NAME: times aws s3 cp --recursive with SSE-C over https.
aws_cp() {
  local kind=$1 n=$2 each=$3 name=$4 bucket t0 t1 listed
  bucket=ub-aws-$$-$RANDOM
  aws --endpoint-url "$RGW_ENDPOINT" s3 mb "s3://$bucket" >"$work/logs/aws-mb.log" 2>&1 ||
    { cat "$work/logs/aws-mb.log" >&2; die "aws s3 mb failed"; }
  buckets+=("$bucket")
  sync
  say "    aws $name ..."
  t0=$(date +%s%N)
  aws --endpoint-url "$RGW_SSL_ENDPOINT" --ca-bundle "$RGW_CA" s3 cp --recursive --only-show-errors \
    --sse-c AES256 --sse-c-key "$SSE_C_KEY" "$work/src/$kind" "s3://$bucket/$kind/" \
    >"$work/logs/aws-$name.log" 2>&1 ||
    { tail -n 20 "$work/logs/aws-$name.log" >&2; die "aws s3 cp $name failed"; }
  t1=$(date +%s%N)
  listed=$(aws --endpoint-url "$RGW_ENDPOINT" s3 ls --recursive "s3://$bucket/$kind/" | wc -l)
  [ "$listed" = "$n" ] || die "awscli uploaded $listed of $n $kind objects"
  awk -v a="$t0" -v b="$t1" -v n="$n" -v e="$each" -v k="$name" 'BEGIN { s = (b - a) / 1e9
    printf "upload.%s.objps %.6g obj/s\nupload.%s.MBps %.6g MB/s\nupload.%s.seconds %.6g s\n",
      k, n / s, k, n * e / s / 1e6, k, s }' >>"$results"
}

say "  upload: $ROUNDS rounds of $N_SMALL x 4 KiB and $N_LARGE x 4 MiB over https + SSE-C," \
    "$JOBS in flight; $N_PROXY x 4 KiB through a $RTT_MS ms proxy"
for r in $(seq "$ROUNDS"); do
  say "  round $r: preparing the tiers (not timed)"
  conf=$(new_conf "$work/r$r/direct" "ub-r$r")
  pconf=$(new_conf "$work/r$r/proxy" "ub-p$r")
  while read -r b; do buckets+=("$b"); done < <(conf_buckets "$conf"; conf_buckets "$pconf")
  # the key bench_conf wrote (tests/common/s3test.c): awscli encrypts with it too
  SSE_C_KEY=$(sed -n 's/^sse_c_key = //p' "$conf" | head -n 1)
  [ "${#SSE_C_KEY}" = 32 ] || die "bench_conf wrote no 32-byte sse_c_key"
  # the files for awscli: the same bytes, written once
  src=-
  [ "$r" = 1 ] && src=$work/src
  "$UPLOAD" prepare "$conf" "$src" "$N_SMALL" "$N_LARGE" >"$work/logs/prepare-$r.out" 2>"$work/logs/prepare-$r.log" ||
    { tail -n 20 "$work/logs/prepare-$r.log" >&2; die "prepare failed"; }
  "$UPLOAD" prepare "$pconf" - "$N_PROXY" 0 >>"$work/logs/prepare-$r.out" 2>>"$work/logs/prepare-$r.log" ||
    { tail -n 20 "$work/logs/prepare-$r.log" >&2; die "prepare (proxy) failed"; }
  sed -i "s/^host = 127\.0\.0\.1:$rgw_ssl_port\$/host = 127.0.0.1:$proxy_port/" "$pconf"
  grep -q "^host = 127.0.0.1:$proxy_port\$" "$pconf" || die "the proxy's seafile.conf does not name the proxy"

  tier_flush "$conf" small "tier.small.r$r"
  aws_cp small "$N_SMALL" 4096 "aws.small.r$r"
  tier_flush "$conf" large "tier.large.r$r"
  aws_cp large "$N_LARGE" 4194304 "aws.large.r$r"
  c0=$(proxy_count connections) q0=$(proxy_count requests)
  tier_flush "$pconf" small "proxy.small.r$r"
  # connections opened and requests made through the proxy: a connection
  # (a TLS handshake, 2 RTT) per request would show here
  echo "upload.proxy.small.r$r.connections $(( $(proxy_count connections) - c0 )) connections" >>"$results"
  echo "upload.proxy.small.r$r.requests $(( $(proxy_count requests) - q0 )) requests" >>"$results"
  drop_buckets
done

{
  for who in tier aws; do
    for kind in small large; do
      for m in objps MBps seconds; do
        echo "upload.$who.$kind.$m $(for r in $(seq "$ROUNDS"); do val "upload.$who.$kind.r$r.$m"; done |
          median) median"
      done
    done
  done
  for kind in small large; do
    for m in objps MBps; do
      echo "upload.$kind.ratio.$m $(for r in $(seq "$ROUNDS"); do
        awk -v a="$(val "upload.tier.$kind.r$r.$m")" -v b="$(val "upload.aws.$kind.r$r.$m")" \
          'BEGIN { if (a != "nan" && b + 0 > 0) print a / b }'; done | median) ratio"
    done
  done
  limit=$(awk -v n="$JOBS" -v r="$RTT_MS" 'BEGIN { printf "%.6g", n / (r / 1000) }')
  for m in objps seconds connections requests; do
    echo "upload.proxy.small.$m $(for r in $(seq "$ROUNDS"); do val "upload.proxy.small.r$r.$m"; done |
      median) median"
  done
  echo "upload.proxy.limit.objps $limit obj/s"
  echo "upload.proxy.ratio $(for r in $(seq "$ROUNDS"); do
    awk -v a="$(val "upload.proxy.small.r$r.objps")" -v l="$limit" 'BEGIN { if (a != "nan") print a / l }'
    done | median) ratio"
  echo "upload.config.rounds $ROUNDS rounds"
  echo "upload.config.concurrency $JOBS requests"
  echo "upload.config.rtt_ms $RTT_MS ms"
  echo "upload.config.small $N_SMALL objects"
  echo "upload.config.large $N_LARGE objects"
  echo "upload.config.proxy_small $N_PROXY objects"
} >>"$results"
# every round's figures too, for the JSON
sed 's/^/RESULT /' "$results"
