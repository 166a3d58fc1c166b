#!/usr/bin/env python3
"""pairs.py RESULTS.jsonl A B: k-th run of A against k-th run of B (system names from relay field / variant)."""
import json, sys, statistics as st
path, a, b = sys.argv[1:4]
rows = [json.loads(l) for l in open(path) if l.strip()]
def sysname(r): return r.get('relay') or r.get('system')
A = [r for r in rows if sysname(r) == a]; B = [r for r in rows if sysname(r) == b]
def g(r, k): return r.get(k)
print(f"{len(A)} {a} runs, {len(B)} {b} runs")
keys = [('peak_pss_sum_mb','d'),('peak_pss_anon_sum_mb','d'),('peak_anon_sum_mb','d'),('relay_cpu_s_per_1k','r'),('e2e_msgs_per_s','r')]
for k, kind in keys:
    vals = []
    for x, y in zip(A, B):
        if g(x,k) is None or g(y,k) is None: continue
        vals.append(round(g(y,k) - g(x,k), 1) if kind == 'd' else round(g(y,k)/g(x,k), 3))
    if vals: print(f"{k:24s} {'diff' if kind=='d' else 'ratio'} {vals} median {st.median(vals):.3f}  | A {[g(x,k) for x in A]} B {[g(y,k) for y in B]}")
