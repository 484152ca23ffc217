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
# shellcheck source=tests/s3server/stop-pids.sh
. "$(dirname "$0")/stop-pids.sh"
down_options swift-down "${SWIFT_DIR:-/tmp/swift/aio}" "${SWIFT_STOP_TIMEOUT:-5}" "$@"
# the proxies first (they hold the clients), memcached last
stop_pids "$DIR" "$DIR/" proxy-https:"$TIMEOUT" proxy-http:"$TIMEOUT" object:"$TIMEOUT" \
  container:"$TIMEOUT" account:"$TIMEOUT" memcached:"$TIMEOUT"
rc=$?
if [ "$REMOVE" = 1 ] && [ "$rc" = 0 ]; then remove_server_dir "$DIR" .swift-up swift-up.sh || rc=1; fi
exit $rc
