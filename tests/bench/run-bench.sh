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
#   BENCH_WRITE_THREADS  writer threads per durable-write case ("1 2 4 8 16 64")
#   BENCH_PROBE_SECONDS  seconds of the fdatasync probe per round (1)
#   BENCH_SCALE_SIZES    index sizes, smallest (the reference) first
#                        ("10000 1000000 10000000"; BENCH_SCALE_N=N alone means
#                        "10000 N"); e.g. "10000 100000" for a quick run
#   BENCH_SCALE_HOT      objects of each index stored with data and read (100000,
#                        at most the size); the other rows are REMOTE rows
#   BENCH_SCALE_ROUNDS   rounds of reads per index, sizes taking turns (3; medians)
#   BENCH_PHASES         which of small, block, write, scale to run (all four)
#   BENCH_PLOTS          1: draw the plots with gnuplot (default 1; skipped with
#                        a message when gnuplot is missing)
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
WRITE_THREADS=${BENCH_WRITE_THREADS:-1 2 4 8 16 64}
PROBE_SECONDS=${BENCH_PROBE_SECONDS:-1}
if [ -n "${BENCH_SCALE_SIZES:-}" ]; then
  SCALE_SIZES=$BENCH_SCALE_SIZES
elif [ -n "${BENCH_SCALE_N:-}" ]; then
  SCALE_SIZES="10000 $BENCH_SCALE_N"
else
  SCALE_SIZES="10000 1000000 10000000"
fi
SCALE_FIRST=${SCALE_SIZES%% *}
SCALE_N=${SCALE_SIZES##* }      # the largest index, compared with the first
SCALE_HOT=${BENCH_SCALE_HOT:-100000}
SCALE_ROUNDS=${BENCH_SCALE_ROUNDS:-3}
PHASES=" ${BENCH_PHASES:-small block write scale} "
# phase NAME: whether BENCH_PHASES asks for it
phase() { case $PHASES in *" $1 "*) return 0 ;; esac; return 1; }
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

# shellcheck source=tests/bench/free-port.sh
. "$S/tests/bench/free-port.sh"

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
if phase small; then
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
fi

# ---------------------------------------------------------------- blocks
# The limit for a compressible block is lz4 itself: bench_block decodes the
# same text, compressed by the tier's lz4 call, from memory.
if phase block; then
say "hit reads of 1 MiB and 8 MiB blocks"
new_conf conf_block "$work/block" sb-block
run_phase block "${PIN[@]}" "$BIN/bench_block" "$conf_block" "$work/fs-block"
fi

# ---------------------------------------------------------------- durable writes
# Disk throughput here drifts with whatever else the machine does, so the
# peers take turns: ROUNDS short rounds of fs then tier at each thread count,
# and the targets use the median of the per-round ratios. Each round starts
# with the fdatasync probe: the group-commit limit at T threads is
# T / (median latency of one fdatasync after a 4 KiB append), the most a
# writer can reach whose every write waits for its own sync.
if phase write; then
say "durable 4 KiB writes: threads $WRITE_THREADS, $WRITE_ROUNDS rounds of $WRITE_SECONDS s per case"
new_conf conf_write "$work/write" sb-write
mkdir -p "$work/probe"
for r in $(seq "$WRITE_ROUNDS"); do
  SUFFIX=.r$r
  sync
  run_phase "write-probe-r$r" "$BIN/bench_write" probe "$work/probe" "$PROBE_SECONDS"
  for t in $WRITE_THREADS; do
    sync
    run_phase "write-fs-t$t-r$r" "$BIN/bench_write" fs "$work/fs-write" "$t" "$WRITE_SECONDS"
    sync
    run_phase "write-tier-t$t-r$r" "$BIN/bench_write" tier "$conf_write" "$t" "$WRITE_SECONDS"
  done
  SUFFIX=
done
rounds() { for r in $(seq "$WRITE_ROUNDS"); do "$@" "$r"; done | median; }
probe_us() { val "write.probe.fdatasync_p50_us.r$1"; }
limit_objps() {  # THREADS ROUND
  awk -v t="$1" -v l="$(probe_us "$2")" 'BEGIN { if (l + 0 > 0) print t / (l / 1e6) }'; }
per_round_ratio() {  # A_KEY B_KEY ROUND: A / B of that round
  awk -v a="$(val "$1.r$3")" -v b="$(val "$2.r$3")" 'BEGIN { if (a != "nan" && b + 0 > 0) print a / b }'; }
tier_over_limit() {  # THREADS ROUND
  awk -v a="$(val "write.tier.t$1.objps.r$2")" -v b="$(limit_objps "$1" "$2")" \
    'BEGIN { if (a != "nan" && b + 0 > 0) print a / b }'; }
round_val() { val "$1.r$2"; }
for m in fdatasync_p50_us fdatasync_p99_us; do
  echo "write.probe.$m $(rounds round_val "write.probe.$m") median" >>"$results"
done
for t in $WRITE_THREADS; do
  for w in fs tier; do
    for m in objps p50_us p99_us cpu_us_per_write; do
      echo "write.$w.t$t.$m $(rounds round_val "write.$w.t$t.$m") median" >>"$results"
    done
  done
  echo "write.limit.t$t.objps $(rounds limit_objps "$t") median" >>"$results"
  echo "write.ratio.t$t $(rounds per_round_ratio "write.tier.t$t.objps" "write.fs.t$t.objps") ratio" >>"$results"
  echo "write.ratio_limit.t$t $(rounds tier_over_limit "$t") ratio" >>"$results"
done
fi

# ---------------------------------------------------------------- index scale
# Each index: N fs objects, of which HOT (100 000) are stored with data and
# read; the others are REMOTE rows recorded through the tier's bulk path for
# a bucket listing (bench_scale.c says how). Reads are disk-tier hits (RAM
# tier off), uniformly random over the HOT objects: with the location cache
# (the default configuration; the targets) and through the index's key
# lookup alone (location_cache_size = 0; shown beside them).
if phase scale; then
say "index scale: $SCALE_SIZES objects ($SCALE_HOT or all of them stored with data), $SCALE_ROUNDS rounds of reads"
declare -A scale_conf
scale_hot() { echo $(( $1 < SCALE_HOT ? $1 : SCALE_HOT )); }
for n in $SCALE_SIZES; do
  new_conf conf_scale "$work/scale-$n" "sb-s$n"
  scale_conf[$n]=$conf_scale
  run_phase "scale-build-$n" "$BIN/bench_scale" build "$conf_scale" "$n" "$(scale_hot "$n")"
  sed -n 's/^bench_scale: //p' "$work/logs/scale-build-$n.log" >&2
done
# Reads in rounds, the sizes taking turns, each a fresh process; the
# figures are the medians of the rounds. Each first writes the access times
# of the hot objects before timing (bench_scale.c says how).
for r in $(seq "$SCALE_ROUNDS"); do
  SUFFIX=.r$r
  for n in $SCALE_SIZES; do
    sync
    run_phase "scale-read-$n-r$r" "${PIN[@]}" "$BIN/bench_scale" read "${scale_conf[$n]}" "$n" \
      "$(scale_hot "$n")" "n$n"
  done
  SUFFIX=
done
for n in $SCALE_SIZES; do
  for m in p50_us p99_us index.p50_us index.p99_us rss_bytes rss_anon_bytes rss_file_bytes index_bytes_per_obj tier_open_ms \
           tier_open_median_ms backend_open_ms; do
    echo "scale.n$n.$m $(for r in $(seq "$SCALE_ROUNDS"); do val "scale.n$n.$m.r$r"; done | median) median" \
      >>"$results"
  done
  run_phase "scale-daemon-$n" "$BIN/bench_scale" daemon "${scale_conf[$n]}" "$B/daemon/seaftierd" "n$n"
  printf 'scale.n%s.objects %s objects\nscale.n%s.hot %s objects\n' "$n" "$n" "$n" "$(scale_hot "$n")" \
    >>"$results"
done
fi

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
  phase small || break
  check "disk-tier hit $sz p50 (RAM tier off) / fs layout p50" "$(val small.tier_disk.$sz.p50_us)" \
    "$(val small.fs.$sz.p50_us)" "<=" 1.0
  check "disk-tier hit $sz p50 (RAM tier off) / memcached p50" "$(val small.tier_disk.$sz.p50_us)" \
    "$(val small.memcached.$sz.p50_us)" "<=" 0.3
  check "RAM-tier hit $sz p50 / memcached p50" "$(val small.tier_ram.$sz.p50_us)" \
    "$(val small.memcached.$sz.p50_us)" "<=" 0.05
done
for sz in 1m 8m; do
  phase block || break
  check "block $sz compressible: tier / lz4 decode MB/s" "$(val block.tier.$sz.text.p50_MBps)" \
    "$(val block.lz4.$sz.text.p50_MBps)" ">=" 0.8
done
for sz in 1m 8m; do
  phase block || break
  check "block $sz incompressible: tier / fs layout MB/s" "$(val block.tier.$sz.rand.p50_MBps)" \
    "$(val block.fs.$sz.rand.p50_MBps)" ">=" 0.8
done
if phase write; then
  check "durable 4 KiB writes, 1 thread: tier / fs (median)" "$(val write.ratio.t1)" 1 ">=" 2
  check "durable writes, 8 threads: tier / group-commit limit" "$(val write.ratio_limit.t8)" 1 ">=" 0.7
  check "durable 4 KiB writes, 8 threads: tier / fs (median)" "$(val write.ratio.t8)" 1 ">=" 3
  check "durable 4 KiB writes, 64 threads: tier / fs (median)" "$(val write.ratio.t64)" 1 ">=" 5
fi
# RSS with the RAM tier off: growing the index 1000-fold may cost bounded
# caches, never memory per object. Anonymous memory (heap) may grow by at
# most 16 MiB; the total also counts SQLite's memory map of the index
# (file-backed pages the kernel can drop).
mib_growth() {
  awk -v a="$(val "scale.n$SCALE_N.$1")" -v b="$(val "scale.n$SCALE_FIRST.$1")" \
    'BEGIN { if (a == "nan" || b == "nan") print "nan"; else printf "%.3f", (a - b) / 1048576 }'
}
if phase scale; then
  for p in p50 p99; do
    check "index scale: hit $p at $SCALE_N / at $SCALE_FIRST objects" "$(val scale.n$SCALE_N.${p}_us)" \
      "$(val scale.n$SCALE_FIRST.${p}_us)" "<=" 2
  done
  check_abs "index scale: anonymous RSS growth to $SCALE_N, MiB" "$(mib_growth rss_anon_bytes)" "<=" 16
  check_abs "index scale: index bytes per object at $SCALE_N" "$(val scale.n$SCALE_N.index_bytes_per_obj)" \
    "<=" 150
  check_abs "index scale: tier open at $SCALE_N, ms" "$(val scale.n$SCALE_N.tier_open_ms)" "<=" 100
  check_abs "index scale: seaftierd start at $SCALE_N, median ms" \
    "$(val scale.n$SCALE_N.daemon_start_median_ms)" "<=" 100
fi
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
    fig "seaftier disk hit $sz, index only" small.tier_disk_index.$sz
  done
  echo
  echo "Hit reads, blocks (MB/s at the median read; p99 read time in ms; lz4 = LZ4_decompress_safe"
  echo "of the same text, compressed by the tier's lz4 call, from memory)"
  printf '  %-34s %10s %10s %10s %10s\n' "block" "fs layout" "seaftier" "lz4" "S3 GET"
  for sz in 1m 8m; do
    for k in rand text; do
      printf '  %-34s %10.0f %10.0f %10.0f %10.0f\n' "$sz $k MB/s" "$(val block.fs.$sz.$k.p50_MBps)" \
        "$(val block.tier.$sz.$k.p50_MBps)" "$(val block.lz4.$sz.$k.p50_MBps)" "$(val block.s3.$sz.$k.p50_MBps)"
      printf '  %-34s %10.2f %10.2f %10.2f %10.2f\n' "$sz $k p99 ms" "$(val block.fs.$sz.$k.p99_ms)" \
        "$(val block.tier.$sz.$k.p99_ms)" "$(val block.lz4.$sz.$k.p99_ms)" "$(val block.s3.$sz.$k.p99_ms)"
    done
  done
  echo "  disk used by the tier for these blocks (4 of each; index stored_size):"
  for sz in 1m 8m; do
    for k in rand text; do
      awk -v c="$sz $k" -v st="$(val block.tier.$sz.$k.stored_bytes)" -v raw="$(val block.tier.$sz.$k.raw_bytes)" \
        -v z="$(val block.tier.$sz.$k.lz4_blocks)" 'BEGIN { if (raw + 0 > 0)
          printf "    %-10s %12.0f bytes of %12.0f raw (%.2f), %s of 4 stored lz4\n", c, st, raw, st / raw, z }'
    done
  done
  echo
  echo "Durable 4 KiB writes (objects/s; per-write p50/p99 in microseconds; CPU = user + system time"
  echo "of the writing process per write; medians of $WRITE_ROUNDS rounds). limit = threads / latency of"
  echo "one fdatasync after a 4 KiB append (p50 $(val write.probe.fdatasync_p50_us) us, p99" \
       "$(val write.probe.fdatasync_p99_us) us)."
  printf '  %-34s %10s %10s %10s %10s\n' "writer" "obj/s" "p50" "p99" "CPU us/w"
  for t in $WRITE_THREADS; do
    for w in fs tier; do
      printf '  %-34s %10.0f %10.0f %10.0f %10.1f\n' "$w, $t thread(s)" "$(val write.$w.t$t.objps)" \
        "$(val write.$w.t$t.p50_us)" "$(val write.$w.t$t.p99_us)" "$(val write.$w.t$t.cpu_us_per_write)"
    done
    printf '  %-34s %10.0f   tier/fs %.2f, tier/limit %.2f\n' "limit, $t thread(s)" \
      "$(val write.limit.t$t.objps)" "$(val write.ratio.t$t)" "$(val write.ratio_limit.t$t)"
  done
  echo
  echo "Index scale (fs objects; disk-tier hits of the stored ones, RAM tier off; microseconds,"
  echo "bytes, milliseconds). Built with seaftier_tier_remember_remote_batch (REMOTE rows in listing"
  echo "order) plus up to $SCALE_HOT objects stored with data (seaftier_tier_store, CLEAN), which are read;"
  echo "medians of $SCALE_ROUNDS rounds of reads, the sizes taking turns. p50/p99: with the location"
  echo "cache (the default); idx: the same reads through the index's key lookup (location_cache_size = 0)."
  printf '  %-10s %8s %8s %8s %8s %8s %8s %8s %8s %9s %9s %9s\n' "objects" "p50" "p99" "p50 idx" \
    "p99 idx" "RSS MiB" "anon MiB" "file MiB" "B/obj" "open ms" "backend" "seaftierd"
  for n in $SCALE_SIZES; do
    awk -v l="$n" -v a="$(val scale.n$n.p50_us)" -v b="$(val scale.n$n.p99_us)" \
      -v ia="$(val scale.n$n.index.p50_us)" -v ib="$(val scale.n$n.index.p99_us)" \
      -v r="$(val scale.n$n.rss_bytes)" -v ra="$(val scale.n$n.rss_anon_bytes)" \
      -v rf="$(val scale.n$n.rss_file_bytes)" -v i="$(val scale.n$n.index_bytes_per_obj)" \
      -v o="$(val scale.n$n.tier_open_ms)" -v bo="$(val scale.n$n.backend_open_ms)" \
      -v d="$(val scale.n$n.daemon_start_median_ms)" \
      'BEGIN { printf "  %-10s %8s %8s %8s %8s %8.1f %8.1f %8.1f %8.0f %9.1f %9.1f %9.1f\n", l, a, b,
               ia, ib, r / 1048576, ra / 1048576, rf / 1048576, i, o, bo, d }'
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
if [ "${BENCH_PLOTS:-1}" = 1 ]; then
  bash "$S/tests/bench/plot-bench.sh" "$B/tests/bench/bench-results.json" "$B/tests/bench" ||
    say "bench: the plots could not be drawn (the figures are in the JSON)"
fi

[ "${BENCH_STRICT:-0}" = 1 ] && [ "$misses" -gt 0 ] && exit 1
exit 0
