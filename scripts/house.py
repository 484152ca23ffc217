#!/usr/bin/env python3
"""Shows the shape of the source tree: lines per folder, the biggest files,
pairs of files that call each other (call cycles of length 2) and include
cycles. Run from the top of the tree: scripts/house.py [--top N].

Calls are found by name (a regex over comment-stripped C), which is what a
reader does too: a global function defined in one file and called in
another is an edge. Good enough to see the architecture, not a compiler."""
import os
import re
import sys
from collections import defaultdict

DIRS = ["lib", "daemon", "tools", "include"]
top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 12

def sources():
    for d in DIRS:
        for root, _, files in os.walk(d):
            for f in files:
                if f.endswith((".c", ".h")):
                    yield os.path.join(root, f)

def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)

files = sorted(sources())
code = {f: strip_comments(open(f, encoding="utf-8", errors="replace").read()) for f in files}
lines = {f: sum(1 for _ in open(f, encoding="utf-8", errors="replace")) for f in files}

print("## Lines per folder")
per_dir = defaultdict(lambda: [0, 0])
for f in files:
    per_dir[os.path.dirname(f)][0] += 1
    per_dir[os.path.dirname(f)][1] += lines[f]
for d in sorted(per_dir):
    print(f"  {d:<22} {per_dir[d][0]:3d} files {per_dir[d][1]:6d} lines")

print(f"\n## Biggest files (top {top})")
for f in sorted(files, key=lambda f: -lines[f])[:top]:
    print(f"  {lines[f]:6d}  {f}")

# Global function definitions: a name at the start of a line followed by
# "(" after a line holding the return type (the project's style).
defined = {}
for f in files:
    if not f.endswith(".c"):
        continue
    for m in re.finditer(r"^(?!static)[A-Za-z_][\w \*]*\n([a-z_]\w*)\(", code[f], flags=re.M):
        defined.setdefault(m.group(1), f)

edges = defaultdict(set)
for f in files:
    if not f.endswith(".c"):
        continue
    for name in set(re.findall(r"\b([a-z_]\w*)\s*\(", code[f])):
        g = defined.get(name)
        if g and g != f:
            edges[f].add(g)

print("\n## Files that call each other")
pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
for a, b in pairs:
    print(f"  {a} <-> {b}")
if not pairs:
    print("  none")

# Include cycles among the project's own headers.
inc = defaultdict(set)
names = {f: f for f in files}
for f in files:
    for m in re.finditer(r'#include\s+"([^"]+)"', open(f, encoding="utf-8", errors="replace").read()):
        target = m.group(1)
        for cand in (os.path.join(os.path.dirname(f), target), os.path.join("lib", target),
                     os.path.join("include", target)):
            cand = os.path.normpath(cand)
            if cand in names:
                inc[f].add(cand)
                break

def cycles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out

print("\n## Include cycles")
ic = cycles(inc)
for c in ic:
    print("  " + " -> ".join(c))
if not ic:
    print("  none")

print("\n## Call cycles (groups of files that reach each other)")
cc = cycles(edges)
for c in cc:
    print("  " + ", ".join(c))
if not cc:
    print("  none")
