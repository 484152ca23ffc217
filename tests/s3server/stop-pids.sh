# shellcheck shell=bash
# stop-pids.sh — what rgw-down.sh and swift-down.sh share (sourced): their options, and
# stopping the processes whose pids a server script recorded in DIR/run/NAME.pid, and only
# those. A pid is signalled only while its process's command line still contains MATCH (a pid
# file outlives its process, and the pid may be reused by anything). SIGTERM first, SIGKILL
# after the name's timeout.

# down_options NAME DEFAULT_DIR DEFAULT_TIMEOUT_S ARGS... — parses the calling script's
# [-d DIR] [-t TIMEOUT_S] [-r] [-q] (its usage is its lines 2-9) into DIR (absolute), TIMEOUT,
# REMOVE and QUIET; say then prints "NAME: ..." on stderr unless -q.
# shellcheck disable=SC2034  # DIR, TIMEOUT, REMOVE, QUIET are for the caller
down_options() {
  local o OPTIND=1
  SAY_NAME=$1 DIR=$2 TIMEOUT=$3
  shift 3
  REMOVE=0 QUIET=0
  while getopts "d:t:rqh" o; do
    case $o in
      d) DIR=$OPTARG ;; t) TIMEOUT=$OPTARG ;; r) REMOVE=1 ;; q) QUIET=1 ;;
      *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
  done
  case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
}

say() { [ "$QUIET" = 1 ] || echo "$SAY_NAME: $*" >&2; }

# pid_is_ours PID MATCH — PID is alive and its command line contains MATCH
pid_is_ours() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# stop_pids DIR MATCH NAME:TIMEOUT_S... — stops each NAME in the order given, removes its pid
# file (a stale one too). Returns 1 if a process outlived SIGKILL, else 0.
stop_pids() {
  local dir=$1 match=$2 rc=0 spec name t f pid end
  shift 2
  if [ ! -d "$dir/run" ]; then
    say "nothing to stop in $dir (no run/ directory)"
    return 0
  fi
  for spec in "$@"; do
    name=${spec%:*} t=${spec##*:}
    f=$dir/run/$name.pid
    [ -s "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null)
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! pid_is_ours "$pid" "$match"; then
      say "$name: stale pid file ($pid), removing"; rm -f "$f"; continue
    fi
    say "$name: SIGTERM $pid"
    kill -TERM "$pid" 2>/dev/null
    end=$(( $(date +%s) + t ))
    while pid_is_ours "$pid" "$match" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
    if pid_is_ours "$pid" "$match"; then
      say "$name: still alive after ${t}s, SIGKILL $pid"
      kill -KILL "$pid" 2>/dev/null
      sleep 0.5
      if pid_is_ours "$pid" "$match"; then say "$name: could not kill $pid"; rc=1; fi
    fi
    rm -f "$f"
  done
  return $rc
}

# remove_server_dir DIR MARKER UP_SCRIPT — removes DIR if it holds MARKER (so it was made
# by UP_SCRIPT); returns 1 otherwise.
remove_server_dir() {
  [ -d "$1" ] || return 0
  if [ -e "$1/$2" ]; then rm -rf "$1" && say "removed $1"
  else say "not removing $1: it was not made by $3"; return 1; fi
}
