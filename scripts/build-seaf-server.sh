#!/usr/bin/env bash
# build-seaf-server.sh — builds Seafile's own server twice from one configure:
# stock, and patched to use libseaftier (seafile/seaf-server-seaftier.patch).
#
# Usage: scripts/build-seaf-server.sh [SOURCES] PREFIX
#   SOURCES  a directory holding the three tarballs (seafile-server-*.tar.gz,
#            libsearpc-*.tar.gz, libevhtp-*.tar.gz), or an unpacked
#            seafile-server directory (the other two tarballs are then looked
#            up beside it and in ../shared/vendor/). Default: ../shared/vendor/
#            relative to the top of this repository.
#   PREFIX   where everything is installed:
#              PREFIX/bin, sbin, lib, include  libsearpc, libevhtp, libseaftier
#                                          (sbin/seaftierd, bin/seaftier-admin), Seafile's
#                                          python modules (PREFIX/lib/python3*/)
#              PREFIX/stock/bin            seaf-server, seafserv-gc, seaf-fsck (fs backend)
#              PREFIX/tier/bin             the same three, patched for libseaftier
#              PREFIX/src/seafile-server   the source tree (seafile-server's tests/ live here)
#              PREFIX/env                  KEY=VALUE lines (PATH, PYTHONPATH, ...) for scripts
#
# libseaftier is always built from this repository (build dir PREFIX/build/seaftier) and
# installed into PREFIX: an incremental `make install`, quick when nothing changed. seaf-server
# links it dynamically, so a newer libseaftier with the same ABI needs no rebuild of seaf-server.
# seaf-server is rebuilt only when PREFIX/.stamp (hashes of the tarballs or source tree, of the
# patch and this script, and libseaftier's version) differs.
# Debian packages only (scripts/install-deps.sh installs them); no network.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
JOBS=${JOBS:-2}
PY=/usr/bin/python3      # Debian's python3 (pytest, requests... come from Debian packages)

if [ $# = 1 ]; then SRC=$top/../shared/vendor; PREFIX=$1
elif [ $# = 2 ]; then SRC=$1; PREFIX=$2
else echo "usage: $0 [SOURCES] PREFIX" >&2; exit 2; fi
[ -e "$SRC" ] || { echo "build-seaf-server: sources not found: $SRC" >&2; exit 1; }
SRC=$(cd "$SRC" && pwd)
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
PATCH=$top/seafile/seaf-server-seaftier.patch
LAYOUT=$top/seafile/layout-check.c
step() { printf '==> %s\n' "$*"; }

# find_source NAME — the tarball or directory for NAME, searching SRC then the vendor dir
find_source() {
  local name=$1 d f
  for d in "$SRC" "$(dirname "$SRC")" "$top/../shared/vendor"; do
    [ -d "$d" ] || continue
    if [ "$name" = seafile-server ] && [ -f "$SRC/configure.ac" ] && [ -d "$SRC/common" ]; then
      echo "$SRC"; return 0
    fi
    f=$(ls -d "$d/$name"-*.tar.gz 2>/dev/null | head -n 1)
    [ -n "$f" ] && { echo "$f"; return 0; }
  done
  echo "build-seaf-server: no $name tarball in $SRC" >&2
  return 1
}
# source_hash PATH — content hash of a tarball, or of a source directory's files
source_hash() {
  if [ -d "$1" ]; then
    (cd "$1" && find . -type f ! -path './.git/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
  else
    sha256sum "$1" | cut -c1-64
  fi
}
# unpack SOURCE DEST — a fresh copy of a tarball (top directory stripped) or directory
unpack() {
  rm -rf "$2"; mkdir -p "$2"
  if [ -d "$1" ]; then cp -a "$1/." "$2/"; else tar -xzf "$1" -C "$2" --strip-components=1; fi
}

searpc_src=$(find_source libsearpc)
evhtp_src=$(find_source libevhtp)
seafile_src=$(find_source seafile-server)

# ---- libseaftier, from this repository ----
step "libseaftier (from $top) into $PREFIX"
(cd "$top" && { [ -x configure ] || flock /tmp/seaftier-autogen.lock ./autogen.sh >/dev/null 2>&1; })
mkdir -p "$PREFIX/build/seaftier"
(cd "$PREFIX/build/seaftier" &&
  { [ -f Makefile ] || "$top/configure" -q --prefix="$PREFIX"; } &&
  make -j"$JOBS" >make.log 2>&1 && make install >install.log 2>&1) ||
  { tail -n 40 "$PREFIX/build/seaftier/make.log"; exit 1; }
seaftier_version=$(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --modversion libseaftier)

stamp="seafile-server $(source_hash "$seafile_src")
libsearpc $(source_hash "$searpc_src")
libevhtp $(source_hash "$evhtp_src")
patch $(sha256sum "$PATCH" | cut -c1-64)
layout-check $(sha256sum "$LAYOUT" | cut -c1-64)
script $(sha256sum "$0" | cut -c1-64)
libseaftier $seaftier_version"
write_env() {
  local py_site
  py_site=$(ls -d "$PREFIX"/lib/python3*/site-packages 2>/dev/null | tr '\n' ':')
  cat >"$PREFIX/env" <<ENV
SEAF_PREFIX=$PREFIX
SEAF_SRC=$PREFIX/src/seafile-server
SEAF_STOCK_BIN=$PREFIX/stock/bin
SEAF_TIER_BIN=$PREFIX/tier/bin
SEAFTIER_BIN=$PREFIX/bin
SEAFTIERD=$PREFIX/sbin/seaftierd
SEAF_PYTHONPATH=${py_site}$PREFIX/src/seafile-server/python
SEAF_LD_LIBRARY_PATH=$PREFIX/lib
ENV
}
if [ -f "$PREFIX/.stamp" ] && [ "$(cat "$PREFIX/.stamp")" = "$stamp" ] &&
   [ -x "$PREFIX/stock/bin/seaf-server" ] && [ -x "$PREFIX/tier/bin/seaf-server" ]; then
  write_env
  step "seaf-server: already built in $PREFIX for these inputs"
  exit 0
fi
rm -f "$PREFIX/.stamp"
build=$PREFIX/src
mkdir -p "$build"
export PATH=$PREFIX/bin:$PATH
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
export LD_LIBRARY_PATH=$PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

step "libsearpc"
unpack "$searpc_src" "$build/libsearpc"
(cd "$build/libsearpc" && ./autogen.sh && ./configure --prefix="$PREFIX" PYTHON=$PY &&
  make -j"$JOBS" && make install) >"$build/libsearpc.log" 2>&1 ||
  { tail -n 40 "$build/libsearpc.log"; exit 1; }

step "libevhtp (Seafile's fork)"
unpack "$evhtp_src" "$build/libevhtp"
(cd "$build/libevhtp" &&
  cmake -DEVHTP_DISABLE_SSL=ON -DEVHTP_BUILD_SHARED=OFF -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_PREFIX="$PREFIX" . &&
  make -j"$JOBS" && make install) >"$build/libevhtp.log" 2>&1 ||
  { tail -n 40 "$build/libevhtp.log"; exit 1; }

step "layout check: seaftier/backend.h against seafile-server's obj-backend.h/block-backend.h"
unpack "$seafile_src" "$build/seafile-server"
s=$build/seafile-server
# shellcheck disable=SC2046
gcc -std=gnu11 -Wall -Wextra -Werror -fsyntax-only \
  -I"$s/common" -I"$s/include" -I"$s/lib" -I"$PREFIX/include" $(pkg-config --cflags glib-2.0) \
  "$LAYOUT" || { echo "build-seaf-server: seaftier/backend.h does not match seafile-server's vtables" >&2; exit 1; }

step "seaf-server, stock (one configure for both builds)"
(cd "$s" && ./autogen.sh &&
  ./configure --prefix="$PREFIX" --disable-fuse PYTHON=$PY \
    CPPFLAGS="-I$PREFIX/include" LDFLAGS="-L$PREFIX/lib -Wl,-rpath,$PREFIX/lib" \
    PKG_CONFIG_PATH="$PKG_CONFIG_PATH" \
    LIBHIREDIS_CFLAGS=-I/usr/include/hiredis LIBHIREDIS_LIBS=-lhiredis &&
  make -j"$JOBS" && make install) >"$build/seafile-stock.log" 2>&1 ||
  { tail -n 60 "$build/seafile-stock.log"; exit 1; }
[ -f "$s/lib/searpc-signature.h" ] || { echo "build-seaf-server: lib/searpc-signature.h was not generated" >&2; exit 1; }
mkdir -p "$PREFIX/stock/bin" "$PREFIX/tier/bin"
for b in seaf-server seafserv-gc seaf-fsck; do mv -f "$PREFIX/bin/$b" "$PREFIX/stock/bin/$b"; done

step "seaf-server, patched for libseaftier (incremental make)"
(cd "$s" && patch -p1 --forward <"$PATCH" &&
  # the patch touches configure.ac and Makefile.am: regenerate, re-run configure as it was run
  autoreconf -i && ./config.status --recheck && ./config.status &&
  make -j"$JOBS" && make install) >"$build/seafile-tier.log" 2>&1 ||
  { tail -n 60 "$build/seafile-tier.log"; exit 1; }
for b in seaf-server seafserv-gc seaf-fsck; do mv -f "$PREFIX/bin/$b" "$PREFIX/tier/bin/$b"; done
for b in seaf-server seafserv-gc seaf-fsck; do
  ldd "$PREFIX/tier/bin/$b" | grep libseaftier >/dev/null ||
    { echo "build-seaf-server: tier/bin/$b does not link libseaftier" >&2; exit 1; }
done
printf '%s\n' "$stamp" >"$PREFIX/.stamp"
write_env
step "seaf-server built: $PREFIX/stock/bin and $PREFIX/tier/bin"
