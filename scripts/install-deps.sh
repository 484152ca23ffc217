#!/usr/bin/env bash
# install-deps.sh — installs, with apt-get, every Debian 12 package seaftier
# needs to build, test and benchmark (as root; a no-op when all are present).
set -euo pipefail
PKGS=(
  build-essential autoconf automake libtool pkg-config
  libglib2.0-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev liblz4-dev zlib1g-dev libcmocka-dev
  clang libclang-rt-14-dev valgrind sqlite3 python3 curl openssl util-linux e2fsprogs
  ceph-mon ceph-osd radosgw ceph-common
  memcached redis-server libmemcached-dev libhiredis-dev awscli
  # the power-cut file system of the durability tests
  fuse3 libfuse3-dev
  # building seafile-server (seaf-server, libsearpc, libevhtp from source) and its pytest suite
  cmake intltool valac uuid-dev libjwt-dev libargon2-dev libjansson-dev libevent-dev libarchive-dev
  libonig-dev libmariadb-dev libmariadb-dev-compat
  python3-pytest python3-requests python3-requests-toolbelt python3-termcolor python3-tenacity python3-future
  # the second S3 server (OpenStack Swift with s3api) and the bench plots
  swift-proxy swift-object swift-container swift-account python3-swift gnuplot-nox
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/tmp/seaftier-apt.log 2>&1 || {
  tail -n 30 /tmp/seaftier-apt.log >&2
  exit 1
}
