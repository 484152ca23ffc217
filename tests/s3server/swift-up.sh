#!/usr/bin/env bash
# swift-up.sh — bring up a throw-away all-in-one OpenStack Swift (Debian's
# swift-proxy/-object/-container/-account 2.30) with the s3api and tempauth
# middlewares on loopback, as plain processes (no systemd, no swift-init):
# memcached, one account, container and object server on a plain directory
# device (mount_check = false, 1-replica rings), and two proxies with the same
# pipeline — one plain http, one https with a self-signed certificate (the
# proxy's own cert_file). Idempotent: an instance already answering in DIR is
# reused and its endpoint printed.
#
# Usage: swift-up.sh [-d DIR] [-p HTTP_PORT|auto] [-s HTTPS_PORT|auto] [-D DNS_NAME]
#                    [-t TIMEOUT_S] [-f]
#   -p/-s auto: first free port from 8480 (http) / http+1 (https)
#   -f   force: stop whatever runs in DIR and rebuild it from scratch
#   Defaults: DIR=/tmp/swift/aio, DNS_NAME=s3.localhost (virtual-host style:
#   <bucket>.s3.localhost, which libcurl resolves to loopback itself).
# Env equivalents: SWIFT_DIR SWIFT_PORT SWIFT_SSL_PORT SWIFT_DNS_NAME SWIFT_TIMEOUT
# On success prints lines like
#   SWIFT_ENDPOINT=http://127.0.0.1:8480
#   SWIFT_SSL_ENDPOINT=https://127.0.0.1:8481   (cert: DIR/swift.crt)
# and writes the same to DIR/env. The S3 access key is "<account>:<user>"
# (tempauth's naming, a colon in it); the region must be us-east-1.
# Stop with swift-down.sh -d DIR. Data lives in DIR/srv (a plain directory).
set -euo pipefail

DIR=${SWIFT_DIR:-/tmp/swift/aio}
PORT=${SWIFT_PORT:-auto}
SSL_PORT=${SWIFT_SSL_PORT:-auto}
DNS_NAME=${SWIFT_DNS_NAME:-s3.localhost}
TIMEOUT=${SWIFT_TIMEOUT:-90}
# tempauth: user_<account>_<user> = <secret> .admin; S3 access key "<account>:<user>"
ACCOUNT=seaftier USER_NAME=tester
SECRET_KEY=seaftierswiftsecretkey0123456789abcdef
FORCE=0
PY=/usr/bin/python3   # Debian's python3-swift, whatever python3 is first in PATH

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while getopts "d:p:s:D:t:fh" o; do
  case $o in
    d) DIR=$OPTARG ;; p) PORT=$OPTARG ;; s) SSL_PORT=$OPTARG ;;
    D) DNS_NAME=$OPTARG ;; t) TIMEOUT=$OPTARG ;; f) FORCE=1 ;; *) usage ;;
  esac
done

SELF_DIR=$(cd "$(dirname "$0")" && pwd)
T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[swift-up %3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2; }
STARTED=0
die() {
  echo "swift-up: ERROR: $*" >&2
  if [ -d "${DIR:-}/log" ]; then
    for f in "$DIR"/log/*.log; do
      [ -s "$f" ] || continue
      echo "---- last lines of $f ----" >&2; tail -n 15 "$f" >&2
    done
  fi
  if [ "$STARTED" = 1 ] && [ "${SWIFT_KEEP_ON_FAIL:-0}" != 1 ]; then
    echo "swift-up: stopping the processes this run started (logs kept in $DIR/log)" >&2
    "$SELF_DIR/swift-down.sh" -d "$DIR" -q || true
  fi
  exit 1
}
trap 'die "unexpected failure (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
[[ $PORT =~ ^([0-9]+|auto)$ ]] || die "bad http port: $PORT (number or auto)"
[[ $SSL_PORT =~ ^([0-9]+|auto)$ ]] || die "bad https port: $SSL_PORT (number or auto)"
[[ $DIR != *[[:space:]]* ]] || die "DIR must not contain spaces: '$DIR'"

for b in swift-proxy-server swift-object-server swift-container-server swift-account-server \
         memcached openssl curl "$PY"; do
  command -v "$b" >/dev/null 2>&1 || die "$b is missing (scripts/install-deps.sh installs swift-proxy swift-object swift-container swift-account memcached)"
done

pid_alive() { # pidfile -> 0 if a live process started with a file in DIR
  local f=$1 p
  [ -s "$f" ] || return 1
  p=$(cat "$f" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$p/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$p/cmdline" | grep -qF -- "$DIR/"
}

# A request signed with an unknown key: s3api + tempauth answer 403 with an
# S3 error document only once the whole pipeline is loaded (an unsigned
# request is passed through to Swift's own API, which answers 404).
s3_ok() {
  local body
  body=$(curl -sk -m 5 -w ' %{http_code}' -H 'Authorization: AWS probe:probe:c2ln' \
         -H "Date: $(date -uR)" "$1" 2>/dev/null) || return 1
  case $body in *"<Error><Code>"*" 403") return 0 ;; esac
  return 1
}

print_env() {
  {
    echo "SWIFT_DIR=$DIR"
    echo "SWIFT_ENDPOINT=http://127.0.0.1:$PORT"
    echo "SWIFT_SSL_ENDPOINT=https://127.0.0.1:$SSL_PORT"
    echo "SWIFT_CA_BUNDLE=$DIR/swift.crt"
    echo "SWIFT_ACCESS_KEY=$ACCOUNT:$USER_NAME"
    echo "SWIFT_SECRET_KEY=$SECRET_KEY"
    echo "SWIFT_DNS_NAME=$DNS_NAME"
    echo "SWIFT_REGION=us-east-1"
  } >"$DIR/env"
  cat "$DIR/env"
}

SERVERS="memcached account container object proxy-http proxy-https"
all_alive() {
  local s
  for s in $SERVERS; do pid_alive "$DIR/run/$s.pid" || return 1; done
}

# ---------------------------------------------------------------- already up?
if [ "$FORCE" = 0 ] && [ -s "$DIR/ports" ] && all_alive; then
  # shellcheck disable=SC1091
  . "$DIR/ports"
  if s3_ok "http://127.0.0.1:$PORT/" && s3_ok "https://127.0.0.1:$SSL_PORT/"; then
    log "already running in $DIR"
    print_env
    exit 0
  fi
  log "processes alive but the endpoints do not answer; rebuilding"
fi

if [ -d "$DIR" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -e "$DIR/.swift-up" ]; then
  die "$DIR exists, is not empty and was not made by swift-up.sh; refusing to wipe it"
fi
if [ -d "$DIR/run" ]; then "$SELF_DIR/swift-down.sh" -d "$DIR" -q || die "could not stop the old processes in $DIR"; fi
rm -rf "$DIR"
mkdir -p "$DIR"/{run,log,conf,srv/d1,cache} || die "cannot create $DIR"
echo "made by swift-up.sh $(date -u +%FT%TZ)" >"$DIR/.swift-up"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
first_free() { local p; for p in $(seq "$1" 65000); do port_free "$p" && { echo "$p"; return 0; }; done; return 1; }
[ "$PORT" = auto ] && { PORT=$(first_free 8480) || die "no free http port"; }
[ "$SSL_PORT" = auto ] && { SSL_PORT=$(first_free $((PORT + 1))) || die "no free https port"; }
[ "$SSL_PORT" != "$PORT" ] || die "http and https port are both $PORT"
port_free "$PORT" || die "port $PORT on 127.0.0.1 is already in use"
port_free "$SSL_PORT" || die "port $SSL_PORT on 127.0.0.1 is already in use"
# nothing listens yet, so the back-end ports come from disjoint ranges
MC_PORT=$(first_free 21211) || die "no free memcached port"
ACCOUNT_PORT=$(first_free 26202) || die "no free account-server port"
CONTAINER_PORT=$(first_free $((ACCOUNT_PORT + 100))) || die "no free container-server port"
OBJECT_PORT=$(first_free $((CONTAINER_PORT + 100))) || die "no free object-server port"
cat >"$DIR/ports" <<EOF
PORT=$PORT
SSL_PORT=$SSL_PORT
MC_PORT=$MC_PORT
ACCOUNT_PORT=$ACCOUNT_PORT
CONTAINER_PORT=$CONTAINER_PORT
OBJECT_PORT=$OBJECT_PORT
EOF

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.localhost,DNS:$DNS_NAME,DNS:*.$DNS_NAME" \
  -keyout "$DIR/swift.key" -out "$DIR/swift.crt" >"$DIR/log/openssl.out" 2>&1 \
  || die "openssl could not make a self-signed certificate: $(cat "$DIR/log/openssl.out")"

# ---------------------------------------------------------------- rings
# One Python process builds the three rings (a swift-ring-builder call per
# step would be nine interpreter start-ups, 15-20 s on this machine).
log "rings (account $ACCOUNT_PORT, container $CONTAINER_PORT, object $OBJECT_PORT)"
"$PY" - "$DIR/conf" "$ACCOUNT_PORT" "$CONTAINER_PORT" "$OBJECT_PORT" >"$DIR/log/rings.out" 2>&1 <<'EOF' \
  || die "building the rings failed: $(tail -n 5 "$DIR/log/rings.out")"
import sys
from swift.common.ring import RingBuilder
conf_dir, ports = sys.argv[1], dict(zip(("account", "container", "object"), map(int, sys.argv[2:5])))
for name, port in ports.items():
    builder = RingBuilder(4, 1, 1)   # 16 partitions, 1 replica, min_part_hours 1
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
                     "device": "d1", "weight": 100.0, "meta": ""})
    builder.rebalance()
    builder.save("%s/%s.builder" % (conf_dir, name))
    builder.get_ring().save("%s/%s.ring.gz" % (conf_dir, name))
EOF

# ---------------------------------------------------------------- configs
RUN_USER=$(id -un)
backend_conf() { # name port -> DIR/conf/<name>-server.conf
  cat >"$DIR/conf/$1-server.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $RUN_USER
swift_dir = $DIR/conf
devices = $DIR/srv
mount_check = false
disable_fallocate = true
log_name = $1-server
log_facility = LOG_LOCAL0
log_level = WARNING
log_address = $DIR/run/no-syslog

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
EOF
}
backend_conf account "$ACCOUNT_PORT"
backend_conf container "$CONTAINER_PORT"
backend_conf object "$OBJECT_PORT"

proxy_conf() { # name port extra-default-lines
  cat >"$DIR/conf/$1.conf" <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $RUN_USER
swift_dir = $DIR/conf
log_name = $1
log_level = WARNING
log_address = $DIR/run/no-syslog
$3

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
storage_domain = $DNS_NAME
dns_compliant_bucket_names = true
allow_multipart_uploads = true
# s3api answers V2 and V4; 2.30 checks the V4 region against location

[filter:tempauth]
use = egg:swift#tempauth
user_${ACCOUNT}_${USER_NAME} = $SECRET_KEY .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC_PORT

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOF
}
proxy_conf proxy-http "$PORT" ""
proxy_conf proxy-https "$SSL_PORT" "cert_file = $DIR/swift.crt
key_file = $DIR/swift.key"

# ---------------------------------------------------------------- start
start() { # name command... (in its own session, stdout/stderr to DIR/log/name.log)
  local name=$1; shift
  setsid "$@" >"$DIR/log/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$DIR/run/$name.pid"
}
STARTED=1
log "memcached ($MC_PORT) + account/container/object servers + proxies (http $PORT, https $SSL_PORT)"
start memcached memcached -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 -u "$RUN_USER" -P "$DIR/run/memcached.self.pid"
for s in account container object; do start "$s" "$PY" "/usr/bin/swift-$s-server" "$DIR/conf/$s-server.conf"; done
start proxy-http "$PY" /usr/bin/swift-proxy-server "$DIR/conf/proxy-http.conf"
start proxy-https "$PY" /usr/bin/swift-proxy-server "$DIR/conf/proxy-https.conf"

end=$(( $(date +%s) + TIMEOUT ))
until s3_ok "http://127.0.0.1:$PORT/" && s3_ok "https://127.0.0.1:$SSL_PORT/"; do
  for s in $SERVERS; do pid_alive "$DIR/run/$s.pid" || die "$s exited during start-up (log: $DIR/log/$s.log)"; done
  [ "$(date +%s)" -lt "$end" ] || die "timed out after ${TIMEOUT}s waiting for the s3api endpoints"
  sleep 0.3
done
log "ready"
print_env
