#!/usr/bin/env bash
# bench-seafile.sh — the seaf-server phase of `make bench`: uploads and
# downloads through Seafile's own server (the C file server's HTTP API), for
#   stock  seaf-server on its fs backend,
#   wb     seaf-server on seaftier, write-back (all three object types on the
#          test S3 server over https + SigV4 + SSE-C, seaftierd running),
#   wt     seaf-server on seaftier, write-through with no tier to speak of
#          (max_size 1M, RAM tier off): what S3 without a cache costs,
# with S3 reached through tests/bench/latency-proxy, which adds RTT_MS of
# round trip (a real region is that far; the loopback RGW is not).
#
# Per round, mode and file set: a fresh seaf-server (databases, libraries,
# buckets), one library per client thread (tests/bench/seafile-client.py),
# then
#   upload          every file of the set, one POST each
#   (restart)       seaf-server restarted; for wb, seaftierd uploads everything
#                   and the clean copies are evicted, for wt the tier is emptied
#                   too, so the next download reads from S3
#   download cold   every file, compared with its source
#   download hot    the same again
# Rounds interleave the modes (stock, wb, wt, stock, ...) so drifts of the
# shared machine hit all three alike; the figures are medians over rounds.
#
# S3 requests on the upload path: seaf-server and seaftierd each reach S3
# through their own proxy, and the proxy counts requests, so the requests
# seaf-server made while uploading are known exactly; divided by the objects
# the upload created (listed in the buckets after a flush, minus those listed
# before), they give "S3 requests per new object".
#
# Prints RESULT lines (KEY VALUE UNIT) on stdout, progress on stderr.
#
# Environment:
#   BENCH_BUILDDIR, BENCH_SRCDIR  set by make bench (run-bench.sh)
#   BENCH_SEAF_PREFIX     where scripts/build-seaf-server.sh builds seaf-server
#                         (default BUILDDIR/tests/bench/seaf-server; rebuilt only
#                         when its inputs change)
#   BENCH_SEAF_SMALL      8 KiB files (1000)      BENCH_SEAF_LARGE  64 MiB files (20)
#   BENCH_SEAF_SMALL_KB   size of the small files in KiB (8)
#   BENCH_SEAF_LARGE_MB   size of the large files in MiB (64)
#   BENCH_SEAF_THREADS    client threads = libraries (4)
#   BENCH_SEAF_ROUNDS     interleaved rounds (3)
#   BENCH_SEAF_RTT_MS     round trip added in front of S3 (20)
#   BENCH_SEAF_MODES      which modes (stock wb wt)
#   BENCH_SEAF_WORK       scratch directory (default: a new one, removed at the end)
#   BENCH_KEEP            1: keep the scratch directory
#   BENCH_SEAF_STRACE     a directory: seaf-server's system calls during each
#                         upload are summarised there (strace -c -w -f, wall
#                         time per call; it slows the upload, so the figures of
#                         such a run are not the bench's)
#   BENCH_SEAF_TRACE      a directory: seaf-server's (and, in the tier modes,
#                         seaftierd's) system calls during each upload are
#                         logged there with timestamps and durations (strace
#                         -f -tt -T), one file per upload, for timelines of
#                         single requests (slower still than BENCH_SEAF_STRACE)
#   BENCH_SEAF_DAEMON_AFTER_UPLOAD  1: in the tier modes, seaftierd starts only
#                         after the upload (its uploads to S3 and mark-clean
#                         transactions do not run beside seaf-server's; an
#                         experiment, not the bench's configuration)
#   SEAFTIER_RGW_DIR      the S3 server instance (tests/s3server/ensure-rgw.sh;
#                         started if needed, never stopped here)
set -euo pipefail

B=${BENCH_BUILDDIR:?set BENCH_BUILDDIR (make bench does)}
S=${BENCH_SRCDIR:?set BENCH_SRCDIR (make bench does)}
PREFIX=${BENCH_SEAF_PREFIX:-$B/tests/bench/seaf-server}
N_SMALL=${BENCH_SEAF_SMALL:-1000}
N_LARGE=${BENCH_SEAF_LARGE:-20}
SMALL_KB=${BENCH_SEAF_SMALL_KB:-8}
LARGE_MB=${BENCH_SEAF_LARGE_MB:-64}
THREADS=${BENCH_SEAF_THREADS:-4}
ROUNDS=${BENCH_SEAF_ROUNDS:-3}
RTT_MS=${BENCH_SEAF_RTT_MS:-20}
MODES=${BENCH_SEAF_MODES:-stock wb wt}
PROXY=$B/tests/bench/latency-proxy
CONFGEN=$B/tests/bench/bench_conf
CLIENT=$S/tests/bench/seafile-client.py
# Debian's python3, as scripts/build-seaf-server.sh uses (python3-requests)
PY=/usr/bin/python3

say() { printf '%s\n' "$*" >&2; }
die() { say "bench-seafile: $*"; exit 1; }

if [ -n "${BENCH_SEAF_WORK:-}" ]; then
  work=$BENCH_SEAF_WORK; mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/seaftier-bench-seafile-XXXXXX")
fi
mkdir -p "$work/logs"
pids=()          # proxies
server_pids=()   # seaf-server / seaftierd of the current data dir
buckets=()
strace_pids=()   # strace of the servers (BENCH_SEAF_STRACE, BENCH_SEAF_TRACE)

cleanup() {
  local rc=$? p
  for p in "${strace_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${server_pids[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  drop_buckets
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "bench-seafile: scratch kept in $work"
  else rm -rf -- "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- seaf-server
say "  building seaf-server into $PREFIX (a no-op when its inputs did not change)"
# SIGPIPE ignored: the build script checks `ldd BIN | grep -q libseaftier`
# under pipefail, and ldd writes line by line, so it can die of SIGPIPE after
# grep found the line and fail the check; ignoring the signal makes ldd's late
# writes fail quietly instead.
(trap '' PIPE; exec "$S/scripts/build-seaf-server.sh" "$PREFIX") >"$work/logs/build-seaf-server.log" 2>&1 ||
  { tail -n 30 "$work/logs/build-seaf-server.log" >&2; die "scripts/build-seaf-server.sh failed"; }
# shellcheck disable=SC1091
. "$PREFIX/env"
export PYTHONPATH=$SEAF_SRC:$SEAF_PYTHONPATH
export LD_LIBRARY_PATH=$SEAF_LD_LIBRARY_PATH
# seaf-server refuses to start without it; any value does for a bench
export JWT_PRIVATE_KEY=seaftier-bench-jwt-private-key-0123456789abcdef

# ---------------------------------------------------------------- S3 and proxies
rgw_env=$("$S/tests/s3server/ensure-rgw.sh" 2>"$work/logs/rgw.log") ||
  { cat "$work/logs/rgw.log" >&2; die "the test S3 server could not be started"; }
RGW_ENDPOINT=$(sed -n 's/^RGW_ENDPOINT=//p' <<<"$rgw_env")
RGW_SSL_ENDPOINT=$(sed -n 's/^RGW_SSL_ENDPOINT=//p' <<<"$rgw_env")
RGW_CONF=$(sed -n 's/^RGW_CONF=//p' <<<"$rgw_env")
export AWS_ACCESS_KEY_ID=$(sed -n 's/^RGW_ACCESS_KEY=//p' <<<"$rgw_env")
export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^RGW_SECRET_KEY=//p' <<<"$rgw_env")
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
printf '[default]\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
unset rgw_env
rgw_ssl_port=${RGW_SSL_ENDPOINT##*:}

# start_proxy NAME: a latency proxy in front of the RGW's https port; sets
# NAME_port and NAME_stats.
start_proxy() {
  local name=$1 out=$work/proxy-$1.out i line
  "$PROXY" --to "127.0.0.1:$rgw_ssl_port" --delay-ms "$(awk -v r="$RTT_MS" 'BEGIN { print r / 2 }')" \
    >"$out" 2>"$work/logs/proxy-$name.log" &
  pids+=($!)
  for i in $(seq 100); do
    line=$(head -n 1 "$out" 2>/dev/null || true)
    [ -n "$line" ] && break
    sleep 0.05
  done
  [ -n "$line" ] || die "latency-proxy did not start: $(cat "$work/logs/proxy-$name.log")"
  read -r _ port _ stats <<<"$line"
  printf -v "${name}_port" '%s' "$port"
  printf -v "${name}_stats" '%s' "$stats"
}
# proxy_requests STATS_PORT: requests relayed so far
proxy_requests() {
  local line
  exec 7<>"/dev/tcp/127.0.0.1/$1"
  read -r line <&7
  exec 7<&-
  awk '{ for (i = 1; i < NF; i++) if ($i == "requests") print $(i + 1) }' <<<"$line"
}
start_proxy server   # seaf-server's way to S3
start_proxy daemon   # seaftierd's (and seaftier-admin's) way to S3

drop_buckets() {
  local b
  [ "${#buckets[@]}" -gt 0 ] || return 0
  for b in "${buckets[@]}"; do
    aws --endpoint-url "$RGW_ENDPOINT" s3 rb --force "s3://$b" >/dev/null 2>&1 || true
  done
  buckets=()
  # RGW frees the tails of deleted objects only in its GC: without this, the
  # large files of every mode and round pile up in its in-memory store
  timeout 120 radosgw-admin -c "$RGW_CONF" gc process --include-all >/dev/null 2>&1 || true
}

bucket_objects() {  # total objects in this data dir's buckets
  local b n=0
  for b in "${buckets[@]}"; do
    n=$(( n + $(aws --endpoint-url "$RGW_ENDPOINT" s3 ls --recursive "s3://$b" | wc -l) ))
  done
  echo "$n"
}

# ---------------------------------------------------------------- source files
src=$work/src
say "  writing the source files ($N_SMALL x $SMALL_KB KiB, $N_LARGE x $LARGE_MB MiB, random bytes)"
mkdir -p "$src/small" "$src/large"
"$PY" - "$src" "$N_SMALL" "$SMALL_KB" "$N_LARGE" "$LARGE_MB" <<'EOF'
import os, sys
src, ns, skb, nl, lmb = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
for i in range(ns):
    with open('%s/small/f%05d.bin' % (src, i), 'wb') as f:
        f.write(os.urandom(skb * 1024))
for i in range(nl):
    with open('%s/large/f%03d.bin' % (src, i), 'wb') as f:
        for _ in range(lmb):
            f.write(os.urandom(1 << 20))
EOF

# ---------------------------------------------------------------- one server
# shellcheck source=tests/bench/free-port.sh
. "$S/tests/bench/free-port.sh"

# setup MODE DIR: databases as seafile-server's ci/serverctl.py creates them,
# conf/seafile.conf for seaf-server and, for the tier modes, conf-daemon/
# (the same but through the daemon's proxy) and three new buckets.
setup() {
  local mode=$1 d=$2 sql=$SEAF_SRC/scripts/sql/sqlite f s3conf
  rm -rf "$d"
  mkdir -p "$d/conf" "$d/seafile-data" "$d/logs" "$d/ccnet/misc" "$d/ccnet/GroupMgr" \
    "$d/ccnet/OrgMgr" "$d/ccnet/PeerMgr"
  sqlite3 "$d/ccnet/misc/config.db" ".read $sql/config.sql"
  sqlite3 "$d/ccnet/GroupMgr/groupmgr.db" ".read $sql/groupmgr.sql"
  sqlite3 "$d/ccnet/OrgMgr/orgmgr.db" ".read $sql/org.sql"
  sqlite3 "$d/ccnet/PeerMgr/usermgr.db" ".read $sql/user.sql"
  for f in config groupmgr org user; do sqlite3 "$d/ccnet/ccnet.db" ".read $sql/$f.sql"; done
  sqlite3 "$d/seafile-data/seafile.db" ".read $sql/seafile.sql"
  SEAF_PORT=$(free_port)
  # [database] without "type" would mean MySQL
  printf '[fileserver]\nport = %s\n\n[database]\ntype = sqlite\n\n' "$SEAF_PORT" >"$d/conf/seafile.conf"
  [ "$mode" = stock ] && return 0
  mkdir -p "$d/s3"
  s3conf=$("$CONFGEN" "$d/s3" "sbs-$mode" https-sse-c 2>>"$work/logs/conf.log") ||
    { cat "$work/logs/conf.log" >&2; die "cannot write a seafile.conf for the tier"; }
  while read -r f; do buckets+=("$f"); done < <(sed -n 's/^bucket = //p' "$s3conf")
  mkdir -p "$d/conf-daemon"
  cp "$d/conf/seafile.conf" "$d/conf-daemon/seafile.conf"
  # the S3 sections, with host pointing at the proxies ([tier] is last)
  sed "s/^host = 127\.0\.0\.1:$rgw_ssl_port\$/host = 127.0.0.1:$server_port/" "$s3conf" >>"$d/conf/seafile.conf"
  sed "s/^host = 127\.0\.0\.1:$rgw_ssl_port\$/host = 127.0.0.1:$daemon_port/" "$s3conf" >>"$d/conf-daemon/seafile.conf"
  grep -q "^host = 127.0.0.1:$server_port\$" "$d/conf/seafile.conf" ||
    die "the tier's seafile.conf does not name the proxy (host line changed format?)"
  if [ "$mode" = wt ]; then
    printf 'mode = write_through\nmax_size = 1M\nram_cache_size = 0\n' |
      tee -a "$d/conf-daemon/seafile.conf" >>"$d/conf/seafile.conf"
  fi
  chmod 600 "$d/conf/seafile.conf" "$d/conf-daemon/seafile.conf"
}

seaf_env() {  # what seaf-server and seaserv read
  export SEAFILE_CENTRAL_CONF_DIR=$1/conf CCNET_CONF_DIR=$1/ccnet SEAFILE_CONF_DIR=$1/seafile-data
  export SEAFILE_MYSQL_DB_CCNET_DB_NAME=ccnet
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_daemon() {  # DIR
  local d=$1 i
  [ -z "${daemon_pid:-}" ] || return 0
  "${SEAFTIERD:-$SEAFTIER_BIN/seaftierd}" -c "$d/conf-daemon" -d "$d/seafile-data" -f \
    --log-file "$d/logs/seaftierd.log" 2>>"$d/logs/seaftierd.stderr" &
  daemon_pid=$!
  server_pids+=("$daemon_pid")
  # seaf-server starts once seaftierd listens (it has created or opened the
  # tier by then): two processes creating a new tier index at the same time
  # can fail one of them with "database is locked" on PRAGMA journal_mode=WAL
  for i in $(seq 200); do
    [ -n "$(find "$d" -name seaftierd.nudge -print -quit 2>/dev/null)" ] && return 0
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.05
  done
  say "bench-seafile: seaftierd did not create its nudge socket in 10 s; starting seaf-server anyway"
}

start_servers() {  # MODE DIR [nodaemon]
  local mode=$1 d=$2 bin=$SEAF_STOCK_BIN i
  [ "$mode" = stock ] || bin=$SEAF_TIER_BIN
  seaf_env "$d"
  [ "$mode" = stock ] || [ "${3:-}" = nodaemon ] || start_daemon "$d"
  "$bin/seaf-server" -F "$d/conf" -c "$d/ccnet" -d "$d/seafile-data" -l "$d/logs/seafile.log" -f \
    >>"$d/logs/seaf-server.stderr" 2>&1 &
  seaf_pid=$!
  server_pids+=("$seaf_pid")
  for i in $(seq 150); do
    port_open "$SEAF_PORT" && return 0
    kill -0 "$seaf_pid" 2>/dev/null || break
    sleep 0.2
  done
  tail -n 20 "$d/logs/seafile.log" "$d/logs/seaf-server.stderr" >&2 2>/dev/null || true
  die "seaf-server ($mode) did not start"
}

stop_pid() {
  local pid=$1 i
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
stop_seaf() { stop_pid "$seaf_pid"; server_pids=("${daemon_pid:-}"); }
stop_all() {
  stop_seaf
  [ -z "${daemon_pid:-}" ] || stop_pid "$daemon_pid"
  daemon_pid=
  server_pids=()
}

admin() { "$SEAFTIER_BIN/seaftier-admin" "$@" -c "$D/conf-daemon" -d "$D/seafile-data"; }

# client OP ARGS...: runs seafile-client.py, keeps its JSON line
client() {
  local out
  out=$("$PY" "$CLIENT" "$@" 2>>"$work/logs/client.log") ||
    { tail -n 20 "$work/logs/client.log" >&2; tail -n 20 "$D/logs/seafile.log" >&2 2>/dev/null || true
      die "seafile-client.py $1 failed"; }
  printf '%s\n' "$out"
}

# emit KEYPREFIX JSON: RESULT lines from one client figure line
emit() {
  "$PY" -c '
import json, sys
k, d = sys.argv[1], json.loads(sys.argv[2])
for f, unit in (("files_per_s", "files/s"), ("MBps", "MB/s"), ("p50_ms", "ms"), ("p99_ms", "ms"), ("seconds", "s")):
    print("RESULT %s.%s %.6g %s" % (k, f, d[f], unit))' "$1" "$2"
}

# strace_start NAME / strace_stop: with BENCH_SEAF_STRACE, a syscall summary
# of seaf-server (all its threads) over what runs between the two; with
# BENCH_SEAF_TRACE, every call with its time
strace_start() {
  if [ -n "${BENCH_SEAF_STRACE:-}" ]; then
    mkdir -p "$BENCH_SEAF_STRACE"
    strace -c -w -f -p "$seaf_pid" -o "$BENCH_SEAF_STRACE/seaf-server-upload-$1.txt" 2>/dev/null &
    strace_pids+=($!)
  fi
  if [ -n "${BENCH_SEAF_TRACE:-}" ]; then
    mkdir -p "$BENCH_SEAF_TRACE"
    strace -f -tt -T -p "$seaf_pid" -o "$BENCH_SEAF_TRACE/seaf-server-upload-$1.trace" 2>/dev/null &
    strace_pids+=($!)
    if [ -n "${daemon_pid:-}" ]; then
      strace -f -tt -T -p "$daemon_pid" -o "$BENCH_SEAF_TRACE/seaftierd-upload-$1.trace" \
        2>/dev/null &
      strace_pids+=($!)
    fi
  fi
  [ "${#strace_pids[@]}" = 0 ] || sleep 1   # attached to every thread before the clock starts
}
strace_stop() {
  local p
  [ "${#strace_pids[@]}" -gt 0 ] || return 0
  for p in "${strace_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${strace_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  strace_pids=()
}

# CPU accounting of one upload: user+system time of seaf-server, seaftierd,
# the RGW (shared with whatever else uses it meanwhile) and the two proxies,
# and of the whole machine (all processes, /proc/stat), so that a slower mode
# can be told apart from a busier machine.
cpu_ticks() {  # PID...: utime+stime of these processes, in clock ticks
  local p t=0 f
  for p in "$@"; do
    [ -n "$p" ] && [ -r "/proc/$p/stat" ] || continue
    # fields after the command name (which may hold spaces): 14 and 15 of stat
    f=$(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')
    t=$(( t + f ))
  done
  echo "$t"
}
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
cpu_snapshot() {  # prints: seaf-server seaftierd rgw proxies machine
  echo "$(cpu_ticks "$seaf_pid") $(cpu_ticks "${daemon_pid:-}") $(cpu_ticks $(pgrep -x radosgw || true))" \
    "$(cpu_ticks "${pids[@]}") $(machine_ticks)"
}
# cpu_emit KEY FILES "BEFORE" "AFTER": CPU ms per uploaded file, per process
cpu_emit() {
  local hz; hz=$(getconf CLK_TCK)
  awk -v k="$1" -v n="$2" -v hz="$hz" -v a="$3" -v b="$4" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    split("seaf_server seaftierd rgw proxies machine", name, " ")
    for (i = 1; i <= 5; i++)
      printf "RESULT %s.upload_cpu_ms_per_file.%s %.3g ms\n", k, name[i], (y[i] - x[i]) * 1000 / hz / n
  }'
}

# ---------------------------------------------------------------- the runs
# run_one MODE SET ROUND
run_one() {
  local mode=$1 set=$2 r=$3 k out before after req0 req1 objs cpu0 cpu1 nfiles
  D=$work/run-$mode-$set-r$r
  k="seaf.$mode.$set"
  say "  $mode, $set files, round $r"
  setup "$mode" "$D"
  if [ "${BENCH_SEAF_DAEMON_AFTER_UPLOAD:-0}" = 1 ]; then start_servers "$mode" "$D" nodaemon
  else start_servers "$mode" "$D"; fi
  client libs "$THREADS" "bench-$mode-$set" >"$D/libs" || die "cannot create libraries"
  before=0
  if [ "$mode" != stock ]; then
    admin flush >>"$D/logs/admin.log" 2>&1 || die "seaftier-admin flush failed (before the upload)"
    before=$(bucket_objects)
  fi
  req0=$(proxy_requests "$server_stats")
  sync
  strace_start "$mode-$set-r$r"
  echo "RESULT $k.upload_loadavg.r$r $(cut -d' ' -f1 /proc/loadavg) load"
  cpu0=$(cpu_snapshot)
  out=$(client upload "$SEAF_PORT" "$D/libs" "$src/$set")
  cpu1=$(cpu_snapshot)
  strace_stop
  req1=$(proxy_requests "$server_stats")
  emit "$k.upload.r$r" "$out"
  nfiles=$(find "$src/$set" -type f | wc -l)
  cpu_emit "$k" "$nfiles" "$cpu0" "$cpu1" | sed "s/\(upload_cpu_ms_per_file\.[a-z_]*\)/\1.r$r/"
  [ "$mode" = stock ] || start_daemon "$D"
  # restart: seaf-server's own caches and the RAM tier start empty
  stop_seaf
  if [ "$mode" != stock ]; then
    admin flush >>"$D/logs/admin.log" 2>&1 || die "seaftier-admin flush failed"
    after=$(bucket_objects)
    objs=$(( after - before ))
    echo "RESULT $k.upload_s3_requests.r$r $(( req1 - req0 )) requests"
    echo "RESULT $k.upload_new_objects.r$r $objs objects"
    awk -v q="$(( req1 - req0 ))" -v o="$objs" -v k="$k" -v r="$r" \
      'BEGIN { if (o > 0) printf "RESULT %s.upload_s3_requests_per_object.r%s %.4g requests/object\n", k, r, q / o }'
    admin evict --all-clean >>"$D/logs/admin.log" 2>&1 || die "seaftier-admin evict failed"
  fi
  start_servers "$mode" "$D"
  sync
  out=$(client download "$SEAF_PORT" "$D/libs" "$src/$set")
  emit "$k.download_cold.r$r" "$out"
  out=$(client download "$SEAF_PORT" "$D/libs" "$src/$set")
  emit "$k.download_hot.r$r" "$out"
  stop_all
  drop_buckets
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf -- "$D"
}

for r in $(seq "$ROUNDS"); do
  for set in small large; do
    [ "$set" = small ] && [ "$N_SMALL" = 0 ] && continue
    [ "$set" = large ] && [ "$N_LARGE" = 0 ] && continue
    for mode in $MODES; do
      # not in a pipe: run_one's bookkeeping (pids, buckets) must stay in this shell
      run_one "$mode" "$set" "$r" >"$work/one.txt"
      cat "$work/one.txt" >>"$work/results.txt"
      cat "$work/one.txt"
    done
  done
done

# medians over rounds: RESULT KEY VALUE UNIT for every KEY.rN
awk '$1 == "RESULT" { k = $2; if (!sub(/\.r[0-9]+\./, ".", k)) sub(/\.r[0-9]+$/, "", k)
  v[k] = v[k] " " $3; u[k] = $4 }
  END { for (k in v) print k, u[k], v[k] }' "$work/results.txt" | sort |
while read -r key unit vals; do
  m=$(tr ' ' '\n' <<<"$vals" | grep . | sort -g | awk '{ a[NR] = $1 } END {
    if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  echo "RESULT $key $m $unit"
done
echo "RESULT seaf.config.rounds $ROUNDS rounds"
echo "RESULT seaf.config.threads $THREADS threads"
echo "RESULT seaf.config.rtt_ms $RTT_MS ms"
echo "RESULT seaf.config.small_files $N_SMALL files"
echo "RESULT seaf.config.small_kib $SMALL_KB KiB"
echo "RESULT seaf.config.large_files $N_LARGE files"
echo "RESULT seaf.config.large_mib $LARGE_MB MiB"
