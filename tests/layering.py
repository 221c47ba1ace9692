#!/usr/bin/env python3
"""The layering the codebase keeps:

- common/ never includes updater/;
- no circle among the source files of updater/: a file depends on another when it uses a
  function or a table that the other defines, and no chain of such uses leads back to where
  it started (registry.c uses its backends through a table; they never call registry.c).

Prints every offending include or circle and exits 1 when there is one.
"""
import os
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
bad = []

for f in sorted(os.listdir(os.path.join(top, "common"))):
    if re.search(r'#\s*include\s+"updater/', open(os.path.join(top, "common", f)).read()):
        bad.append(f"common/{f} includes updater/")

def strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)

src = {}
for f in sorted(os.listdir(os.path.join(top, "updater"))):
    if f.endswith(".c"):
        src[f] = strip(open(os.path.join(top, "updater", f)).read())

# What each file defines for others: non-static functions and tables at the top level.
defined = {}
fn_def = re.compile(r"^(?!static\b)[A-Za-z_][\w \t\*]*?\b([a-z_][a-z0-9_]*)\s*\([^;{]*\)\s*\{", re.M)
table_def = re.compile(r"^(?!static\b)(?:const\s+)?struct\s+\w+\s+([a-z_][a-z0-9_]*)\s*=", re.M)
for f, text in src.items():
    for m in fn_def.finditer(text):
        defined.setdefault(m.group(1), f)
    for m in table_def.finditer(text):
        defined.setdefault(m.group(1), f)

deps = {f: set() for f in src}
ident = re.compile(r"\b([a-z_][a-z0-9_]*)\b")
for f, text in src.items():
    for name in set(ident.findall(text)):
        g = defined.get(name)
        if g and g != f:
            deps[f].add(g)

index, low, stack, on, circles, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(deps[v]):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            circles.append(sorted(comp))
sys.setrecursionlimit(10000)
for v in sorted(deps):
    if v not in index:
        visit(v)
for c in circles:
    edges = [f"{a} -> {b}" for a in c for b in sorted(deps[a]) if b in c]
    bad.append("a circle among updater/ files: " + ", ".join(edges))
for b in bad:
    print(b)
print(f"layering: {len(src)} files, {sum(len(v) for v in deps.values())} uses, "
      f"{len(bad)} problem(s)")
sys.exit(1 if bad else 0)
