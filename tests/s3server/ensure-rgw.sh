#!/usr/bin/env bash
# ensure-rgw.sh — make sure the project's test S3 server (Ceph RADOS Gateway,
# see rgw-up.sh) runs, and print its KEY=VALUE environment on stdout.
#
# Idempotent and safe to call from parallel tests: a lock serialises start-up,
# and an instance already answering is reused. The first call that actually
# starts the server records it in DIR/.started-by-ensure so that
# `ensure-rgw.sh --stop` stops only what was started this way.
#
# Users, and the rule that no instance is wiped under one:
#  - Every call registers its caller as a user of the instance: the process
#    that runs ensure-rgw.sh (the test program, or the shell of a script that
#    does `env=$(ensure-rgw.sh)`: a forked subshell counts as the process it
#    was forked from), or SEAFTIER_RGW_USER_PID when set. The
#    registration is a file DIR/users/PID-STARTTIME (the start time tells a
#    live process from a later one that got the same pid) holding the time of
#    the first registration; it lasts as long as that process lives, with
#    nothing to release. Dead users' files are removed by the next call.
#  - An instance with a live user is never rebuilt, stopped or wiped (neither
#    by this script nor by rgw-up.sh, which it runs with -n then).
#  - The memstore OSD keeps every object in RAM: when Ceph reports it nearfull
#    or full and users are live, the buckets created before the oldest live
#    user registered are deleted (no live user can own them: a user makes its
#    buckets after its call), oldest first, for at most RGW_CLEAN_SECONDS
#    (default 60) per call. A nearfull instance still takes writes and is then
#    reused; one still full, or not answering, is refused with an error naming
#    its users (a full OSD stops writes, and waiting on it would hang the test).
#  - Without a live user, a nearfull, full or unresponsive instance is rebuilt
#    from scratch (quicker than deleting, and it gives the RAM back).
#  - `--stop` stops the instance only when no user but the caller is alive.
# Tests must therefore not use buckets made before their own call.
#
# Usage: ensure-rgw.sh [--stop]
# Env:   SEAFTIER_RGW_DIR (default /tmp/seaftier-s3), SEAFTIER_RGW_USER_PID,
#        RGW_CLEAN_SECONDS, plus rgw-up.sh's RGW_*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DIR=${SEAFTIER_RGW_DIR:-/tmp/seaftier-s3}
DIR=${DIR%/}
# The lock is never inherited by the daemons (9>&- below): a daemon holding
# it would block every later caller.
LOCK=$DIR.start.lock
USERS=$DIR/users
USER_PID=${SEAFTIER_RGW_USER_PID:-$PPID}
CLEAN_SECONDS=${RGW_CLEAN_SECONDS:-60}

say() { echo "ensure-rgw: $*" >&2; }

# parent_of PID — its parent's pid, from /proc/PID/stat
parent_of() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086  # split on purpose: field 4 is the parent
  set -- $stat
  echo "$2"
}

# The caller: `out=$(ensure-rgw.sh 2>log)` runs this script from a forked
# subshell of the script's shell (bash execs the command in place only
# without redirections), which ends with the substitution. Such a subshell
# has its parent's command line: go up to the process that is not a copy.
if [ -z "${SEAFTIER_RGW_USER_PID:-}" ]; then
  while pp=$(parent_of "$USER_PID") && [ "$pp" -gt 1 ] &&
        cmp -s "/proc/$USER_PID/cmdline" "/proc/$pp/cmdline"; do
    USER_PID=$pp
  done
fi

# start_time PID — the process's start time (clock ticks after boot, field 22
# of /proc/PID/stat); fails when there is no such process.
start_time() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }           # the command name may hold spaces and ')'
  # shellcheck disable=SC2086  # split on purpose: the fields from field 3 on
  set -- $stat
  [ -n "${20:-}" ] || return 1
  echo "${20}"
}

# live_users — "PID REGISTERED_AT" for each live user; removes the
# registrations of processes that are gone.
live_users() {
  local f name pid st
  [ -d "$USERS" ] || return 0
  for f in "$USERS"/*; do
    [ -f "$f" ] || continue
    name=${f##*/} pid=${name%%-*} st=${name#*-}
    if [ "$(start_time "$pid" || true)" = "$st" ]; then
      echo "$pid $(cat "$f")"
    else
      rm -f "$f"
    fi
  done
}

# register — records USER_PID as a user (keeping the time of its first call).
register() {
  local st f
  st=$(start_time "$USER_PID") || { say "user pid $USER_PID is not a live process"; exit 1; }
  mkdir -p "$USERS"
  f=$USERS/$USER_PID-$st
  [ -f "$f" ] || date -u +%Y-%m-%dT%H:%M:%S.%3NZ >"$f"
}

# health — ok, nearfull, full or unresponsive, from the monitor's health checks.
health() {
  local h
  h=$(timeout 20 ceph -c "$DIR/ceph.conf" --connect-timeout 15 health --format json 2>/dev/null) ||
    { echo unresponsive; return; }
  case $h in
    *'"OSD_FULL"'*|*'"POOL_FULL"'*) echo full ;;
    *'"OSD_NEARFULL"'*|*'"OSD_BACKFILLFULL"'*|*'"POOL_NEARFULL"'*|*'"POOL_BACKFILLFULL"'*) echo nearfull ;;
    *) echo ok ;;
  esac
}

# env_value NAME — a value from the running instance's DIR/env.
env_value() { sed -n "s/^$1=//p" "$DIR/env" | head -n1; }

# clean_stale_buckets BEFORE — deletes the buckets created before BEFORE (an
# ISO time in UTC, as RGW gives a bucket's CreationDate), oldest first, for at
# most CLEAN_SECONDS.
clean_stale_buckets() {
  local before=$1 endpoint access secret listing names n=0 end b created
  endpoint=$(env_value RGW_ENDPOINT) access=$(env_value RGW_ACCESS_KEY) secret=$(env_value RGW_SECRET_KEY)
  # ListBuckets, SigV4 (RGW wants the payload hash header; this one is of "")
  listing=$(curl -sS -m 30 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "$endpoint/") || { say "cannot list the buckets of $DIR"; return 1; }
  names=$(grep -o '<Name>[^<]*</Name><CreationDate>[^<]*</CreationDate>' <<<"$listing" |
    sed 's|<Name>\([^<]*\)</Name><CreationDate>\([^<]*\)</CreationDate>|\2 \1|' | sort) || true
  end=$(( $(date +%s) + CLEAN_SECONDS ))
  while read -r created b; do
    [ -n "$b" ] || continue
    [[ $created < $before ]] || break
    [ "$(date +%s)" -lt "$end" ] || { say "stopped cleaning after ${CLEAN_SECONDS}s (the next call goes on)"; break; }
    if timeout 120 radosgw-admin -c "$DIR/ceph.conf" bucket rm --bucket="$b" --purge-objects \
         --bypass-gc </dev/null >/dev/null 2>&1; then
      n=$((n + 1))
    else
      say "could not delete stale bucket $b"
    fi
  done <<<"$names"
  say "deleted $n bucket(s) created before $before (no live user made them)"
}

exec 9>"$LOCK"
flock 9

users=$(live_users)
if [ "${1:-}" = --stop ]; then
  others=$(awk -v me="$USER_PID" 'NF && $1 != me { printf " %s", $1 }' <<<"$users")
  if [ -n "$others" ]; then
    say "not stopping the S3 server in $DIR: in use by live process(es)$others"
  elif [ -e "$DIR/.started-by-ensure" ]; then
    "$here/rgw-down.sh" -d "$DIR" -q -r 9>&-
  fi
  exit 0
fi

# the registration of this caller from an earlier call counts: its buckets
# are in the instance
pids=$(awk 'NF { printf " %s", $1 }' <<<"$users")
oldest=$(awk 'NF == 2 { print $2 }' <<<"$users" | sort | head -n1)
was_up=0
[ -s "$DIR/env" ] && [ -e "$DIR/.rgw-up" ] && was_up=1
up_args=()
if [ "$was_up" = 1 ]; then
  state=$(health)
  if [ "$state" != ok ] && [ -z "$pids" ]; then
    say "the S3 server in $DIR is $state and has no live user - rebuilding it"
    "$here/rgw-down.sh" -d "$DIR" -q -r 9>&- || true
    was_up=0
  elif [ "$state" != ok ]; then
    if [ "$state" = nearfull ] || [ "$state" = full ]; then
      say "the S3 server in $DIR is $state; live users:$pids - deleting stale buckets instead of rebuilding"
      clean_stale_buckets "$oldest" || true
      [ "$state" = full ] && state=$(health)
    fi
    if [ "$state" = full ] || [ "$state" = unresponsive ]; then
      say "the S3 server in $DIR is $state and in use by live process(es)$pids: not rebuilding it;" \
          "run again when they are done"
      exit 1
    fi
  fi
fi
# rgw-up.sh must not rebuild an instance that has users either
[ -n "$pids" ] && up_args+=(-n)
# Virtual-host buckets are <bucket>.s3.localhost: curl resolves any *.localhost
# name to loopback, and a certificate wildcard needs two labels after the
# "*" (OpenSSL refuses *.localhost).
DNS_NAME=${RGW_DNS_NAME:-s3.localhost}
# Ports: take the first free ones, so a developer's own instance on the
# default ports is left alone; a running instance keeps its ports.
out=$("$here/rgw-up.sh" -d "$DIR" -p auto -s auto -D "$DNS_NAME" "${up_args[@]}" 2>"$DIR.up.log" 9>&-) || {
  cat "$DIR.up.log" >&2
  exit 1
}
if [ "$was_up" = 0 ] || [ -e "$DIR/.started-by-ensure" ]; then
  touch "$DIR/.started-by-ensure"
fi
register
printf '%s\n' "$out"
