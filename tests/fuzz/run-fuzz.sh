#!/usr/bin/env bash
# run-fuzz.sh — build the libFuzzer targets with clang (ASan + UBSan) and run
# each for a bounded time over its seed corpus.
#
# Usage: run-fuzz.sh [TARGET...]        (default: every target in TARGETS)
# Env:   FUZZ_SECONDS  time per target (default 30)
#        BUILDDIR      configured build directory holding seaftier-build.h
#                      (default: the current directory, else the source tree)
#        FUZZ_OUT      where binaries, the working corpus and crash
#                      artifacts go (default $BUILDDIR/fuzz)
#        CLANG         the compiler (default: clang, else clang-14)
# Exit status: 0 when every target ran its time without a finding.
#
# New inputs found while fuzzing go to FUZZ_OUT/corpus-NAME, never into the
# seed directory tests/fuzz/corpus/NAME in the source tree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

# The targets, one per line: NAME | sources (relative to the top directory) |
# pkg-config modules. The seed corpus of NAME is tests/fuzz/corpus/NAME.
TARGETS=(
  "xml | tests/fuzz/fuzz_xml.c lib/s3/xml.c | glib-2.0"
  "config | tests/fuzz/fuzz_config.c lib/config/config.c lib/config/config-values.c lib/config/config-s3.c lib/config/config-tier.c lib/config/config-env.c lib/config/bucket-name.c lib/log.c | glib-2.0"
)

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
case $FUZZ_SECONDS in ''|*[!0-9]*) echo "run-fuzz.sh: FUZZ_SECONDS must be a number of seconds, not '$FUZZ_SECONDS'" >&2; exit 2;; esac

if [ -z "${BUILDDIR:-}" ]; then
  if [ -f ./seaftier-build.h ]; then BUILDDIR=$PWD
  elif [ -f "$top/seaftier-build.h" ]; then BUILDDIR=$top
  else
    echo "run-fuzz.sh: no seaftier-build.h here or in $top; run from a configured build directory or set BUILDDIR" >&2
    exit 2
  fi
fi
BUILDDIR=$(cd "$BUILDDIR" && pwd)
[ -f "$BUILDDIR/seaftier-build.h" ] || { echo "run-fuzz.sh: $BUILDDIR/seaftier-build.h not found (run configure there first)" >&2; exit 2; }
FUZZ_OUT=${FUZZ_OUT:-$BUILDDIR/fuzz}
mkdir -p "$FUZZ_OUT"

if [ -z "${CLANG:-}" ]; then
  for c in clang clang-14; do
    if command -v "$c" >/dev/null 2>&1; then CLANG=$c; break; fi
  done
fi
[ -n "${CLANG:-}" ] || { echo "run-fuzz.sh: clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 2; }

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; s=${s%"${s##*[![:space:]]}"}; printf '%s' "$s"; }

# Picks the targets to run from the command line.
declare -A spec=()
names=()
for t in "${TARGETS[@]}"; do
  IFS='|' read -r name srcs mods <<<"$t"
  name=$(trim "$name")
  spec[$name]="$(trim "$srcs")|$(trim "$mods")"
  names+=("$name")
done
if [ $# -gt 0 ]; then
  for n in "$@"; do
    [ -n "${spec[$n]:-}" ] || { echo "run-fuzz.sh: unknown target '$n' (known: ${names[*]})" >&2; exit 2; }
  done
  names=("$@")
fi

build_target() {
  local name=$1 srcs=$2 mods=$3 bin=$FUZZ_OUT/fuzz_$1
  local -a src_paths=()
  for s in $srcs; do src_paths+=("$top/$s"); done
  local cflags libs
  # shellcheck disable=SC2086
  cflags=$(pkg-config --cflags $mods)
  # shellcheck disable=SC2086
  libs=$(pkg-config --libs $mods)
  echo "== building fuzz_$name with $CLANG"
  # shellcheck disable=SC2086
  "$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -Werror \
    -I"$BUILDDIR" -I"$top/include" -I"$top/lib" $cflags \
    "${src_paths[@]}" $libs -o "$bin"
}

run_target() {
  local name=$1 bin=$FUZZ_OUT/fuzz_$1
  local seeds=$top/tests/fuzz/corpus/$name work=$FUZZ_OUT/corpus-$name art=$FUZZ_OUT/artifacts-$name
  [ -d "$seeds" ] || { echo "run-fuzz.sh: no seed corpus $seeds" >&2; return 1; }
  mkdir -p "$work" "$art"
  echo "== fuzzing $name for ${FUZZ_SECONDS}s (seeds: $seeds, artifacts: $art)"
  # The first directory receives new inputs; the seeds are only read.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$art/" "$work" "$seeds"
}

status=0
failed=()
for name in "${names[@]}"; do
  IFS='|' read -r srcs mods <<<"${spec[$name]}"
  if ! build_target "$name" "$srcs" "$mods"; then
    echo "run-fuzz.sh: $name: build failed" >&2
    status=1; failed+=("$name"); continue
  fi
  if ! run_target "$name"; then
    echo "run-fuzz.sh: $name: FAILED — reproduce with $FUZZ_OUT/fuzz_$name $FUZZ_OUT/artifacts-$name/<file>" >&2
    status=1; failed+=("$name")
  fi
done
if [ $status -eq 0 ]; then
  echo "run-fuzz.sh: all targets passed (${names[*]}, ${FUZZ_SECONDS}s each)"
else
  echo "run-fuzz.sh: failed: ${failed[*]}" >&2
fi
exit $status
