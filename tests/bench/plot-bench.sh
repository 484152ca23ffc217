#!/usr/bin/env bash
# plot-bench.sh — draws the two plots of `make bench` from its JSON figures:
#
#   plot-bench.sh BENCH_RESULTS_JSON OUTDIR
#
#   OUTDIR/bench-scale.png  disk-tier hit latency p50 / p99 (microseconds),
#                           with the location cache and through the index alone
#                           against the number of objects indexed (log x, log y)
#   OUTDIR/bench-write.png  durable 4 KiB writes per second against writer
#                           threads: seaftier, Seafile's fs layout, and the
#                           group-commit limit (threads / fdatasync latency)
#
# run-bench.sh calls it after writing bench-results.json; it can also redraw
# the plots of a kept JSON file. Needs gnuplot (Debian: gnuplot-nox) and
# python3; without gnuplot it says so and exits 0 (the figures are in the
# JSON and the text report either way).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: plot-bench.sh BENCH_RESULTS_JSON OUTDIR" >&2
  exit 2
fi
json=$1 out=$2
if ! command -v gnuplot >/dev/null 2>&1; then
  echo "plot-bench: gnuplot is not installed (apt-get install gnuplot-nox): no plots drawn" >&2
  exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/seaftier-plot-XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# The series as whitespace-separated columns, one file per plot; a figure
# the run did not measure is "NaN" (gnuplot leaves the point out).
/usr/bin/python3 - "$json" "$tmp" <<'EOF'
import json, os, re, sys
src, tmp = sys.argv[1:3]
r = json.load(open(src))['results']
def v(key):
    x = r.get(key)
    return 'NaN' if x is None else repr(x['value'])
sizes = sorted({int(m.group(1)) for k in r for m in [re.match(r'scale\.n(\d+)\.p50_us$', k)] if m})
with open(os.path.join(tmp, 'scale.dat'), 'w') as f:
    f.write('# objects p50_us p99_us index_p50_us index_p99_us\n')
    for n in sizes:
        f.write('%d %s %s %s %s\n' % (n, v('scale.n%d.p50_us' % n), v('scale.n%d.p99_us' % n),
                                      v('scale.n%d.index.p50_us' % n), v('scale.n%d.index.p99_us' % n)))
threads = sorted({int(m.group(1)) for k in r for m in [re.match(r'write\.tier\.t(\d+)\.objps$', k)] if m})
with open(os.path.join(tmp, 'write.dat'), 'w') as f:
    f.write('# threads tier fs limit (objects/s)\n')
    for t in threads:
        f.write('%d %s %s %s\n' % (t, v('write.tier.t%d.objps' % t), v('write.fs.t%d.objps' % t),
                                   v('write.limit.t%d.objps' % t)))
EOF

mkdir -p "$out"
plotted=()
if [ "$(grep -vc '^#' "$tmp/scale.dat")" -gt 0 ]; then
  gnuplot <<EOF
set terminal pngcairo size 900,560 font "sans,10"
set output "$out/bench-scale.png"
set title "seaftier disk-tier hit latency against index size (RAM tier off)"
set xlabel "objects indexed"
set ylabel "microseconds per read (log scale)"
set logscale x 10
set logscale y 10
set format x "10^{%L}"
set key top left
set grid
plot "$tmp/scale.dat" using 1:2 with linespoints lw 2 pt 7 title "p50", \
     "$tmp/scale.dat" using 1:3 with linespoints lw 2 pt 5 title "p99", \
     "$tmp/scale.dat" using 1:4 with linespoints lw 1 dt 2 pt 6 title "p50, index lookup (no location cache)", \
     "$tmp/scale.dat" using 1:5 with linespoints lw 1 dt 2 pt 4 title "p99, index lookup (no location cache)"
EOF
  plotted+=("$out/bench-scale.png")
fi
if [ "$(grep -vc '^#' "$tmp/write.dat")" -gt 0 ]; then
  gnuplot <<EOF
set terminal pngcairo noenhanced size 900,560 font "sans,10"
set output "$out/bench-write.png"
set title "durable 4 KiB writes against writer threads (medians of the rounds)"
set xlabel "writer threads"
set ylabel "objects acknowledged per second"
set logscale x 2
set logscale y 10
set key top left
set grid
plot "$tmp/write.dat" using 1:4 with linespoints lw 2 dt 2 pt 1 title "group-commit limit (threads / fdatasync latency)", \
     "$tmp/write.dat" using 1:2 with linespoints lw 2 pt 7 title "seaftier (ObjBackend.write, need_sync)", \
     "$tmp/write.dat" using 1:3 with linespoints lw 2 pt 5 title "fs layout (tmp + fsync + rename + dir fsync)"
EOF
  plotted+=("$out/bench-write.png")
fi
if [ "${#plotted[@]}" -eq 0 ]; then
  echo "plot-bench: no scale or durable-write figures in $json: no plots drawn" >&2
else
  echo "plots: ${plotted[*]}" >&2
fi
