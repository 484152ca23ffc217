#!/usr/bin/env bash
# run-bench.sh — `make bench`: seaftier against the peers it replaces or
# competes with, measured in the same run on this machine, printed as ratios
# against its targets.
#
# Starts by itself, on loopback: memcached and redis-server (Debian
# packages), the project's test S3 server (tests/s3server/ensure-rgw.sh; left
# running if it was already up), and uses awscli for the upload peer. Stops
# what it started and removes its scratch directory.
#
# Method:
#  - read latencies: one sample per GET, single thread; the client and the
#    memcached/Redis server are pinned to the same vCPU (taskset), the
#    peer's best case (~15 us instead of ~52 us across vCPUs); the other
#    placement is printed for memcached as information.
#  - `sync` before every timed phase; nothing is deleted before the end (file
#    creation right after a mass delete is slow on this file system).
#  - write and upload phases are not pinned (fsync- and network-bound, many
#    threads, on both sides alike).
#
# Environment (defaults are the issues' figures):
#   BENCH_CPU            vCPU for pinned phases (default: the last one)
#   BENCH_SCALE_N        large index size (1000000); the small one is 10000
#   BENCH_UPLOAD_SMALL   4 KiB objects to upload (10000); see bench-upload.sh for
#                        BENCH_UPLOAD_LARGE, _PROXY_SMALL, _ROUNDS, _RTT_MS, _JOBS
#   BENCH_ONLY_UPLOAD    1: only the upload phase (bench-upload.sh; default 0)
#   BENCH_WRITE_SECONDS  seconds per durable-write case and round (2)
#   BENCH_WRITE_ROUNDS   rounds of durable writes, fs and tier taking turns (3)
#   BENCH_SPLIT          1: also measure memcached on another vCPU (default 1)
#   BENCH_STRICT         1: exit 1 when a target is missed (default 0)
#   BENCH_KEEP           1: keep the scratch directory
#   BENCH_RGW_DIR        the S3 server instance's directory (/tmp/seaftier-s3-bench);
#                        stopped at the end unless it was running before
#   BENCH_SEAFILE        1: the seaf-server phase (bench-seafile.sh; default 1)
#   BENCH_ONLY_SEAFILE   1: only the seaf-server phase (default 0)
#   plus the programs' own BENCH_SMALL_*, BENCH_BLOCK_*, BENCH_SCALE_READS and
#   bench-seafile.sh's BENCH_SEAF_*.
set -euo pipefail

B=${BENCH_BUILDDIR:?run through make bench}
S=${BENCH_SRCDIR:?run through make bench}
BIN=$B/tests/bench
NCPU=$(nproc)
CPU=${BENCH_CPU:-$((NCPU - 1))}
OTHER_CPU=$(( CPU == 0 ? (NCPU > 1 ? 1 : 0) : 0 ))
SCALE_N=${BENCH_SCALE_N:-1000000}
WRITE_SECONDS=${BENCH_WRITE_SECONDS:-2}
WRITE_ROUNDS=${BENCH_WRITE_ROUNDS:-3}
# The bench's own S3 server instance (not the one the tests share): its
# memory store starts empty, other people's test traffic does not land in
# the figures, and a wedged shared instance does not stall the bench.
export SEAFTIER_RGW_DIR=${BENCH_RGW_DIR:-/tmp/seaftier-s3-bench}

work=$(mktemp -d "${TMPDIR:-/tmp}/seaftier-bench-XXXXXX")
results=$work/results.txt
: >"$results"
mkdir -p "$work/logs"
pids=()
buckets=()
rgw_was_up=0
[ -e "$SEAFTIER_RGW_DIR/.rgw-up" ] && rgw_was_up=1
started=$(date +%s)

say() { printf '%s\n' "$*" >&2; }

cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  # Empty and remove the buckets this run made (small objects live in RGW's
  # head objects, so this frees the server's memory store at once).
  if [ "${#buckets[@]}" -gt 0 ] && [ -n "${RGW_ENDPOINT:-}" ]; then
    for b in "${buckets[@]}"; do
      aws --endpoint-url "$RGW_ENDPOINT" s3 rb --force "s3://$b" >/dev/null 2>&1 || true
    done
  fi
  [ "$rgw_was_up" = 1 ] || "$S/tests/s3server/ensure-rgw.sh" --stop || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    say "scratch directory kept: $work"
  else
    rm -rf -- "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 30000 ))
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}

# run_phase NAME CMD...: runs a bench program, keeps its RESULT lines, and
# shows its log when it fails.
run_phase() {
  local name=$1; shift
  local t0=$(date +%s)
  say "  $name ..."
  if ! timeout "${PHASE_TIMEOUT:-900}" "$@" >"$work/logs/$name.out" 2>"$work/logs/$name.log"; then
    say "bench: $name failed: $*"
    tail -n 30 "$work/logs/$name.log" "$work/logs/$name.out" >&2 || true
    exit 1
  fi
  grep '^RESULT ' "$work/logs/$name.out" | cut -d' ' -f2- |
    awk -v s="${SUFFIX:-}" '{ $1 = $1 s; print }' >>"$results" || true
  say "    ($(( $(date +%s) - t0 )) s)"
}

# A command prefix (not a function: timeout and & must exec the program
# itself, so that $! is the peer's own pid).
PIN=(taskset -c "$CPU")

# new_conf VAR DIR PREFIX: a seafile.conf with three fresh buckets, its path
# in VAR; the buckets are recorded for the cleanup (no subshell, hence VAR).
new_conf() {
  local var=$1 dir=$2 prefix=$3 conf
  mkdir -p "$dir"
  conf=$("$BIN/bench_conf" "$dir" "$prefix" 2>>"$work/logs/conf.log") || {
    say "bench: cannot write a seafile.conf (S3 server?):"; cat "$work/logs/conf.log" >&2; exit 1; }
  while read -r b; do buckets+=("$b"); done < <(sed -n 's/^bucket = //p' "$conf")
  printf -v "$var" '%s' "$conf"
}

val() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "nan" }' "$results"; }
# median: the median of the numbers on stdin (nan when there are none)
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
  if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

wait_tcp() {
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  say "bench: nothing listens on 127.0.0.1:$1"; exit 1
}

# ---------------------------------------------------------------- the machine
say "seaftier bench: scratch $work, pinned phases on vCPU $CPU"
{
  echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $NCPU vCPU, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)," \
       "kernel $(uname -r), $(df -PT "$work" | awk 'NR == 2 { print $2 }') file system"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
  if [ -n "${BENCH_SAN_CFLAGS:-}" ]; then
    echo "WARNING: built with sanitizers ($BENCH_SAN_CFLAGS): figures are not meaningful;"
    echo "         configure a build without --enable-sanitizers for make bench."
  fi
} >"$work/header.txt"

# ---------------------------------------------------------------- the peers
say "starting the peers"
MC_PORT=$(free_port)
"${PIN[@]}" memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -t 1 -m 256 -c 64 \
  $( [ "$(id -u)" = 0 ] && echo "-u root" ) >"$work/logs/memcached.log" 2>&1 &
pids+=($!)
RD_PORT=$(free_port)
RD_SOCK=$work/redis.sock
"${PIN[@]}" redis-server --port "$RD_PORT" --bind 127.0.0.1 --unixsocket "$RD_SOCK" \
  --unixsocketperm 700 --save '' --appendonly no --daemonize no --dir "$work" \
  --logfile "$work/logs/redis.log" >"$work/logs/redis.out" 2>&1 &
pids+=($!)
wait_tcp "$MC_PORT"
wait_tcp "$RD_PORT"

rgw_env=$("$S/tests/s3server/ensure-rgw.sh" 2>"$work/logs/rgw.log") || {
  say "bench: the test S3 server could not be started:"; cat "$work/logs/rgw.log" >&2; exit 1; }
RGW_ENDPOINT=$(sed -n 's/^RGW_ENDPOINT=//p' <<<"$rgw_env")
export AWS_ACCESS_KEY_ID=$(sed -n 's/^RGW_ACCESS_KEY=//p' <<<"$rgw_env")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^RGW_SECRET_KEY=//p' <<<"$rgw_env")
unset rgw_env
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
: >"$AWS_SHARED_CREDENTIALS_FILE"
# awscli gets as many requests in flight as seaftier's upload_concurrency (16).
cat >"$AWS_CONFIG_FILE" <<EOF
[default]
s3 =
    max_concurrent_requests = 16
    addressing_style = path
EOF

ONLY_SEAFILE=${BENCH_ONLY_SEAFILE:-0}
ONLY_UPLOAD=${BENCH_ONLY_UPLOAD:-0}
if [ "$ONLY_SEAFILE" != 1 ]; then
if [ "$ONLY_UPLOAD" != 1 ]; then
# ---------------------------------------------------------------- small reads
say "hit reads of 1 KiB and 4 KiB objects"
sync
run_phase small-memcached "${PIN[@]}" "$BIN/bench_small" memcached 127.0.0.1 "$MC_PORT"
sync
run_phase small-redis-tcp "${PIN[@]}" "$BIN/bench_small" redis-tcp 127.0.0.1 "$RD_PORT"
sync
run_phase small-redis-unix "${PIN[@]}" "$BIN/bench_small" redis-unix "$RD_SOCK"
if [ "${BENCH_SPLIT:-1}" = 1 ] && [ "$NCPU" -gt 1 ]; then
  sync
  run_phase small-memcached-split taskset -c "$OTHER_CPU" "$BIN/bench_small" memcached 127.0.0.1 \
    "$MC_PORT" memcached_split
fi
run_phase small-fs "${PIN[@]}" "$BIN/bench_small" fs "$work/fs-small"
new_conf conf_small "$work/small" sb-small
run_phase small-tier "${PIN[@]}" "$BIN/bench_small" tier "$conf_small"

# ---------------------------------------------------------------- blocks
say "hit reads of 1 MiB and 8 MiB blocks"
new_conf conf_block "$work/block" sb-block
run_phase block "${PIN[@]}" "$BIN/bench_block" "$conf_block" "$work/fs-block"

# ---------------------------------------------------------------- durable writes
# Disk throughput here drifts with whatever else the machine does, so the
# peers take turns: ROUNDS short rounds of fs then tier, and the target uses
# the median of the per-round ratios.
say "durable 4 KiB writes ($WRITE_ROUNDS rounds of $WRITE_SECONDS s per case)"
new_conf conf_write "$work/write" sb-write
for r in $(seq "$WRITE_ROUNDS"); do
  for t in 1 8; do
    SUFFIX=.r$r
    sync
    run_phase "write-fs-t$t-r$r" "$BIN/bench_write" fs "$work/fs-write" "$t" "$WRITE_SECONDS"
    sync
    run_phase "write-tier-t$t-r$r" "$BIN/bench_write" tier "$conf_write" "$t" "$WRITE_SECONDS"
    SUFFIX=
  done
done
for t in 1 8; do
  for w in fs tier; do
    for m in objps p50_us p99_us; do
      echo "write.$w.t$t.$m $(for r in $(seq "$WRITE_ROUNDS"); do val "write.$w.t$t.$m.r$r"; done |
        median) median" >>"$results"
    done
  done
  echo "write.ratio.t$t $(for r in $(seq "$WRITE_ROUNDS"); do
    awk -v a="$(val "write.tier.t$t.objps.r$r")" -v b="$(val "write.fs.t$t.objps.r$r")" \
      'BEGIN { if (b + 0 > 0) print a / b }'; done | median) ratio" >>"$results"
done

# ---------------------------------------------------------------- index scale
say "index scale: 10000 vs $SCALE_N objects"
new_conf conf_s1 "$work/scale-small" sb-s1
new_conf conf_s2 "$work/scale-large" sb-s2
run_phase scale-build-small "$BIN/bench_scale" build "$conf_s1" 10000 16
run_phase scale-build-large "$BIN/bench_scale" build "$conf_s2" "$SCALE_N" 16
sync
run_phase scale-read-small "${PIN[@]}" "$BIN/bench_scale" read "$conf_s1" 10000 small
run_phase scale-read-large "${PIN[@]}" "$BIN/bench_scale" read "$conf_s2" "$SCALE_N" large

fi  # ONLY_UPLOAD
# ---------------------------------------------------------------- upload
# tests/bench/bench-upload.sh: seaftier-admin flush (seaftierd's uploader)
# vs aws s3 cp --recursive, both over https + SSE-C, rounds taking turns; and
# seaftier through a proxy adding 20 ms of round trip.
say "upload: seaftier-admin flush vs aws s3 cp --recursive, https + SSE-C; and through a 20 ms proxy"
PHASE_TIMEOUT=${BENCH_UPLOAD_TIMEOUT:-1800} run_phase upload bash "$S/tests/bench/bench-upload.sh"
fi  # ONLY_SEAFILE

# ---------------------------------------------------------------- seaf-server
# Seafile's own server, stock vs on seaftier, S3 behind a 20 ms proxy
# (bench-seafile.sh says how); it builds seaf-server once into a cached prefix.
if { [ "${BENCH_SEAFILE:-1}" = 1 ] && [ "$ONLY_UPLOAD" != 1 ]; } || [ "$ONLY_SEAFILE" = 1 ]; then
  say "seaf-server: uploads and downloads through its HTTP API, stock vs seaftier, S3 ${BENCH_SEAF_RTT_MS:-20} ms away"
  PHASE_TIMEOUT=${BENCH_SEAF_TIMEOUT:-7200} run_phase seafile bash "$S/tests/bench/bench-seafile.sh"
fi

# ---------------------------------------------------------------- the report
misses=0 checks=0
rows=$work/rows.txt
: >"$rows"
# check WHAT MEASURED PEER OP TARGET: ratio = measured / peer, compared with OP.
check() {
  local what=$1 a=$2 b=$3 op=$4 target=$5 line
  line=$(awk -v w="$what" -v a="$a" -v b="$b" -v op="$op" -v t="$target" 'BEGIN {
    if (a == "nan" || b == "nan" || b + 0 == 0) { printf "%-52s %10s %6s %-6s MISS\n", w, "n/a", op, t; exit }
    r = a / b; ok = (op == "<=") ? (r <= t) : (r >= t)
    printf "%-52s %10.3g %6s %-6s %s\n", w, r, op, t, ok ? "PASS" : "MISS" }')
  echo "$line" >>"$rows"
  checks=$((checks + 1))
  case $line in *MISS) misses=$((misses + 1)) ;; esac
}

# check_abs WHAT VALUE OP TARGET: an absolute figure, not a ratio.
check_abs() {
  local line
  line=$(awk -v w="$1" -v a="$2" -v op="$3" -v t="$4" 'BEGIN {
    if (a == "nan") { printf "%-52s %10s %6s %-6s MISS\n", w, "n/a", op, t; exit }
    ok = (op == "<=") ? (a + 0 <= t + 0) : (a + 0 >= t + 0)
    printf "%-52s %10.3g %6s %-6s %s\n", w, a, op, t, ok ? "PASS" : "MISS" }')
  echo "$line" >>"$rows"
  checks=$((checks + 1))
  case $line in *MISS) misses=$((misses + 1)) ;; esac
}

if [ "$ONLY_SEAFILE" != 1 ]; then
if [ "$ONLY_UPLOAD" != 1 ]; then
for sz in 1k 4k; do
  check "RAM-tier hit $sz p50 / memcached p50" "$(val small.tier_ram.$sz.p50_us)" \
    "$(val small.memcached.$sz.p50_us)" "<=" 0.05
done
for sz in 1k 4k; do
  check "disk-tier hit $sz p50 (RAM tier off) / memcached p50" "$(val small.tier_disk.$sz.p50_us)" \
    "$(val small.memcached.$sz.p50_us)" "<=" 0.3
done
for sz in 1m 8m; do
  check "block $sz incompressible: tier / fs layout MB/s" "$(val block.tier.$sz.rand.p50_MBps)" \
    "$(val block.fs.$sz.rand.p50_MBps)" ">=" 0.5
  check "block $sz compressible: tier / fs layout MB/s" "$(val block.tier.$sz.text.p50_MBps)" \
    "$(val block.fs.$sz.text.p50_MBps)" ">=" 0.2
  for k in rand text; do
    check "block $sz $k: tier / S3 GET MB/s" "$(val block.tier.$sz.$k.p50_MBps)" \
      "$(val block.s3.$sz.$k.p50_MBps)" ">=" 10
  done
done
check "durable 4 KiB writes, 8 threads: tier / fs (median)" "$(val write.ratio.t8)" 1 ">=" 10
check "durable 4 KiB writes, 1 thread: tier / fs (median)" "$(val write.ratio.t1)" 1 ">=" 2
check "index scale: hit p99 at $SCALE_N / at 10000 objects" "$(val scale.large.p99_us)" \
  "$(val scale.small.p99_us)" "<=" 2
# RSS with the RAM tier off: growing the index 100-fold may cost bounded
# caches, never memory per object. Anonymous memory (heap) may grow by at
# most 16 MiB; the total also counts SQLite's memory map of the index,
# which the tier bounds to 64 MiB when the RAM tier is off (lib/tier/db.c).
mib_growth() {
  awk -v a="$(val "scale.large.$1")" -v b="$(val "scale.small.$1")" \
    'BEGIN { if (a == "nan" || b == "nan") print "nan"; else printf "%.3f", (a - b) / 1048576 }'
}
check_abs "index scale: anonymous RSS growth to $SCALE_N, MiB" "$(mib_growth rss_anon_bytes)" "<=" 16
check_abs "index scale: total RSS growth to $SCALE_N, MiB" "$(mib_growth rss_bytes)" "<=" 80
fi  # ONLY_UPLOAD
# upload ratios: medians of the per-round ratios (bench-upload.sh)
check "upload 4 KiB https+SSE-C: tier / awscli obj/s (median)" "$(val upload.small.ratio.objps)" 1 \
  ">=" 3
check "upload 4 MiB https+SSE-C: tier / awscli MB/s (median)" "$(val upload.large.ratio.MBps)" 1 \
  ">=" 1.3
check "upload 4 KiB, $(val upload.config.rtt_ms) ms RTT: tier / (window / RTT) obj/s" \
  "$(val upload.proxy.ratio)" 1 ">=" 0.8
fi  # ONLY_SEAFILE

# seaf-server: ratios per round (the modes took turns), median over rounds
SEAF_ROUNDS=$(val seaf.config.rounds)
seaf_ratio() {  # MODE_A MODE_B SET OP FIELD
  local r
  [ "$SEAF_ROUNDS" = nan ] && { echo nan; return; }
  for r in $(seq "$SEAF_ROUNDS"); do
    awk -v a="$(val "seaf.$1.$3.$4.r$r.$5")" -v b="$(val "seaf.$2.$3.$4.r$r.$5")" \
      'BEGIN { if (a != "nan" && b != "nan" && b + 0 > 0) print a / b }'
  done | median
}
if [ "$SEAF_ROUNDS" != nan ]; then
  for set in small large; do
    f=files_per_s u=files/s; [ $set = large ] && f=MBps u=MB/s
    for op in upload download_hot; do
      check "seaf-server $set $op: wb / stock $u" "$(seaf_ratio wb stock $set $op $f)" 1 ">=" 0.8
    done
  done
  # the same per upload, one at a time per library: stock's median upload time
  # over the tier's (throughput also counts stock's rare multi-second stalls)
  check "seaf-server small upload p50: stock / wb time" "$(seaf_ratio stock wb small upload p50_ms)" 1 \
    ">=" 0.8
  for op in upload download_hot; do
    check "seaf-server small $op: wb / wt files/s" "$(seaf_ratio wb wt small $op files_per_s)" \
      1 ">=" 5
  done
  check_abs "seaf-server wb small upload: S3 requests/object" \
    "$(val seaf.wb.small.upload_s3_requests_per_object)" "<=" 0
fi

fig() {  # LABEL KEY-PREFIX
  printf '  %-34s %10s %10s\n' "$1" "$(val "$2.p50_us")" "$(val "$2.p99_us")"
}
{
  echo "==================== seaftier make bench ===================="
  cat "$work/header.txt"
  echo "pinned phases: client and peer on vCPU $CPU (taskset)"
  if [ "$ONLY_SEAFILE" != 1 ]; then
  if [ "$ONLY_UPLOAD" != 1 ]; then
  echo
  echo "Hit reads, small objects, single thread (microseconds)"
  printf '  %-34s %10s %10s\n' "store" "p50" "p99"
  for sz in 1k 4k; do
    fig "memcached $sz (libmemcached, TCP)" small.memcached.$sz
    fig "redis $sz (hiredis, TCP)" small.redis_tcp.$sz
    fig "redis $sz (hiredis, unix socket)" small.redis_unix.$sz
    [ "$(val small.memcached_split.$sz.p50_us)" = nan ] ||
      fig "memcached $sz, peer on vCPU $OTHER_CPU" small.memcached_split.$sz
    fig "fs layout $sz (open/read/close)" small.fs.$sz
    fig "seaftier RAM-tier hit $sz" small.tier_ram.$sz
    fig "seaftier disk-tier hit $sz" small.tier_disk.$sz
  done
  echo
  echo "Hit reads, blocks (MB/s at the median read; p99 read time in ms)"
  printf '  %-34s %10s %10s %10s\n' "block" "fs layout" "seaftier" "S3 GET"
  for sz in 1m 8m; do
    for k in rand text; do
      printf '  %-34s %10.0f %10.0f %10.0f\n' "$sz $k MB/s" "$(val block.fs.$sz.$k.p50_MBps)" \
        "$(val block.tier.$sz.$k.p50_MBps)" "$(val block.s3.$sz.$k.p50_MBps)"
      printf '  %-34s %10.2f %10.2f %10.2f\n' "$sz $k p99 ms" "$(val block.fs.$sz.$k.p99_ms)" \
        "$(val block.tier.$sz.$k.p99_ms)" "$(val block.s3.$sz.$k.p99_ms)"
    done
  done
  echo
  echo "Durable 4 KiB writes (objects/s; per-write p50/p99 in microseconds; medians of $WRITE_ROUNDS rounds)"
  printf '  %-34s %10s %10s %10s\n' "writer" "obj/s" "p50" "p99"
  for t in 1 8; do
    for s in fs tier; do
      printf '  %-34s %10.0f %10.0f %10.0f\n' "$s, $t thread(s)" "$(val write.$s.t$t.objps)" \
        "$(val write.$s.t$t.p50_us)" "$(val write.$s.t$t.p99_us)"
    done
  done
  echo
  echo "Index scale (disk-tier hits, RAM tier off; microseconds, bytes)"
  printf '  %-18s %9s %9s %9s %9s %9s %12s\n' "objects indexed" "p50" "p99" "RSS MiB" \
    "anon MiB" "file MiB" "index B/obj"
  for s in small large; do
    n=10000; [ $s = large ] && n=$SCALE_N
    awk -v l="$n" -v a="$(val scale.$s.p50_us)" -v b="$(val scale.$s.p99_us)" \
      -v r="$(val scale.$s.rss_bytes)" -v ra="$(val scale.$s.rss_anon_bytes)" \
      -v rf="$(val scale.$s.rss_file_bytes)" -v i="$(val scale.$s.index_bytes_per_obj)" \
      'BEGIN { printf "  %-18s %9s %9s %9.1f %9.1f %9.1f %12.0f\n", l, a, b, r / 1048576,
               ra / 1048576, rf / 1048576, i }'
  done
  fi  # ONLY_UPLOAD
  echo
  echo "Upload to the test S3 server over https + SSE-C, process start to exit (seaftier:"
  echo "seaftier-admin flush --no-daemon, the uploader seaftierd runs; awscli: aws s3 cp"
  echo "--recursive --sse-c; $(val upload.config.concurrency) requests in flight each; medians of" \
       "$(val upload.config.rounds) interleaved rounds)"
  printf '  %-34s %10s %10s %10s\n' "uploader" "obj/s" "MB/s" "seconds"
  for k in small large; do
    for s in tier aws; do
      printf '  %-34s %10.1f %10.1f %10.1f\n' "$s, $([ $k = small ] && echo "$(val upload.config.small) x 4 KiB" ||
        echo "$(val upload.config.large) x 4 MiB")" \
        "$(val upload.$s.$k.objps)" "$(val upload.$s.$k.MBps)" "$(val upload.$s.$k.seconds)"
    done
  done
  printf '  %-34s %10.1f %10s %10.1f   (limit %s obj/s = %s in flight / %s ms)\n' \
    "tier, $(val upload.config.proxy_small) x 4 KiB, +$(val upload.config.rtt_ms) ms RTT" \
    "$(val upload.proxy.small.objps)" "" "$(val upload.proxy.small.seconds)" \
    "$(val upload.proxy.limit.objps)" "$(val upload.config.concurrency)" "$(val upload.config.rtt_ms)"
  echo "  (through the proxy: $(val upload.proxy.small.requests) requests on" \
       "$(val upload.proxy.small.connections) connections, medians)"
  fi  # ONLY_SEAFILE
  if [ "$SEAF_ROUNDS" != nan ]; then
    echo
    echo "seaf-server through its HTTP API (C file server), $(val seaf.config.threads) client threads, one"
    echo "library each; S3 over https + SSE-C behind a proxy adding $(val seaf.config.rtt_ms) ms round trip;"
    echo "medians of $SEAF_ROUNDS interleaved round(s). small: $(val seaf.config.small_files) x" \
         "$(val seaf.config.small_kib) KiB, large: $(val seaf.config.large_files) x $(val seaf.config.large_mib) MiB."
    echo "stock = fs backend; wb = seaftier write-back (seaftierd running); wt = write-through,"
    echo "max_size 1M, RAM tier off. cold = after a restart (tier modes: uploaded and evicted first)."
    printf '  %-26s %12s %12s %12s %10s\n' "mode, files, operation" "files/s" "MB/s" "p50 ms" "p99 ms"
    for set in small large; do
      for mode in stock wb wt; do
        for op in upload download_cold download_hot; do
          [ "$(val seaf.$mode.$set.$op.files_per_s)" = nan ] && continue
          printf '  %-26s %12.1f %12.1f %12.1f %10.1f\n' "$mode $set $op" "$(val seaf.$mode.$set.$op.files_per_s)" \
            "$(val seaf.$mode.$set.$op.MBps)" "$(val seaf.$mode.$set.$op.p50_ms)" "$(val seaf.$mode.$set.$op.p99_ms)"
        done
      done
    done
    echo "  S3 requests made by seaf-server while uploading (through its proxy), per new object:"
    for set in small large; do
      for mode in wb wt; do
        [ "$(val seaf.$mode.$set.upload_s3_requests)" = nan ] && continue
        printf '    %-24s %8s requests, %8s new objects, %8s per object\n' "$mode $set" \
          "$(val seaf.$mode.$set.upload_s3_requests)" "$(val seaf.$mode.$set.upload_new_objects)" \
          "$(val seaf.$mode.$set.upload_s3_requests_per_object)"
      done
    done
  fi
  echo
  echo "Targets (ratio = seaftier / peer, measured in this run)"
  printf '%-52s %10s %6s %-6s %s\n' "target" "ratio" "" "goal" "result"
  cat "$rows"
  echo
  echo "$((checks - misses)) of $checks targets met; total time $(( $(date +%s) - started )) s"
} | tee "$B/tests/bench/bench-output.txt"

# The same figures as JSON beside it: every measured value (key, value, unit)
# and every target row.
/usr/bin/python3 - "$results" "$rows" "$work/header.txt" >"$B/tests/bench/bench-results.json" <<'EOF'
import json, sys
results, rows, header = sys.argv[1:4]
out = {'header': [l.rstrip('\n') for l in open(header)], 'results': {}, 'targets': []}
for line in open(results):
    f = line.split()
    if len(f) < 2:
        continue
    try:
        v = float(f[1])
    except ValueError:
        continue
    out['results'][f[0]] = {'value': v, 'unit': ' '.join(f[2:])}
for line in open(rows):
    # "%-52s %10s %6s %-6s RESULT": the description, then four fields
    f = line.rsplit(None, 4)
    if len(f) != 5:
        continue
    what, rest = f[0], f[1:]
    try:
        value = float(rest[0])
    except ValueError:
        value = None
    out['targets'].append({'target': what, 'value': value, 'op': rest[1], 'goal': float(rest[2]),
                           'result': rest[3]})
json.dump(out, sys.stdout, indent=1)
print()
EOF
say "figures as JSON: $B/tests/bench/bench-results.json"

[ "${BENCH_STRICT:-0}" = 1 ] && [ "$misses" -gt 0 ] && exit 1
exit 0
