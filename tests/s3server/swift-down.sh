#!/usr/bin/env bash
# swift-down.sh — stop the processes that swift-up.sh started in DIR, and only
# those: each pid is read from DIR/run/*.pid and is signalled only if that
# process's command line still names a file in DIR. SIGTERM first, SIGKILL
# after a timeout.
#
# Usage: swift-down.sh [-d DIR] [-t TIMEOUT_S] [-r] [-q]
#   -r  also remove DIR afterwards     -q  quiet
# Env equivalents: SWIFT_DIR SWIFT_STOP_TIMEOUT (default 5)
set -uo pipefail

DIR=${SWIFT_DIR:-/tmp/swift/aio}
TIMEOUT=${SWIFT_STOP_TIMEOUT:-5}
REMOVE=0 QUIET=0
while getopts "d:t:rqh" o; do
  case $o in
    d) DIR=$OPTARG ;; t) TIMEOUT=$OPTARG ;; r) REMOVE=1 ;; q) QUIET=1 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
say() { [ "$QUIET" = 1 ] || echo "swift-down: $*" >&2; }

ours() { # pid -> 0 if it is alive and was started with a file in DIR
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$DIR/"
}

rc=0
if [ ! -d "$DIR/run" ]; then
  say "nothing to stop in $DIR (no run/ directory)"
else
  # the proxies first (they hold the clients), memcached last
  for name in proxy-https proxy-http object container account memcached; do
    f=$DIR/run/$name.pid
    [ -s "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null)
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! ours "$pid"; then
      say "$name: stale pid file ($pid), removing"; rm -f "$f"; continue
    fi
    say "$name: SIGTERM $pid"
    kill -TERM "$pid" 2>/dev/null
    end=$(( $(date +%s) + TIMEOUT ))
    while ours "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
    if ours "$pid"; then
      say "$name: still alive after ${TIMEOUT}s, SIGKILL $pid"
      kill -KILL "$pid" 2>/dev/null
      sleep 0.3
      if ours "$pid"; then say "$name: could not kill $pid"; rc=1; fi
    fi
    rm -f "$f"
  done
fi
if [ "$REMOVE" = 1 ] && [ "$rc" = 0 ] && [ -d "$DIR" ]; then
  if [ -e "$DIR/.swift-up" ]; then rm -rf "$DIR" && say "removed $DIR"
  else say "not removing $DIR: it was not made by swift-up.sh"; rc=1; fi
fi
exit $rc
