#!/usr/bin/env python3
"""ii31-pairs.py FILE.jsonl [A B]: run-anchors pairs (repetition k = the k-th run of each system), ratios B ÷ A of relay
CPU a message, e2e msg/s and peak PSS difference; medians."""
import sys, json, statistics
f = sys.argv[1]; A = sys.argv[2] if len(sys.argv) > 2 else 'base'; B = sys.argv[3] if len(sys.argv) > 3 else 'cand'
runs = {A: [], B: []}
for l in open(f):
    try: d = json.loads(l)
    except Exception: continue
    r = d.get('relay')
    if r in runs and d.get('complete'): runs[r].append(d)
cpu, e2e, pss = [], [], []
for i, (a, b) in enumerate(zip(runs[A], runs[B])):
    c = b['relay_cpu_s_per_1k'] / a['relay_cpu_s_per_1k']; e = b['e2e_msgs_per_s'] / a['e2e_msgs_per_s']; p = b['peak_pss_sum_mb'] - a['peak_pss_sum_mb']
    cpu.append(c); e2e.append(e); pss.append(p)
    print(f"pair {i+1}: cpu {a['relay_cpu_s_per_1k']:.2f} -> {b['relay_cpu_s_per_1k']:.2f} ({c:.3f})  e2e {a['e2e_msgs_per_s']:.0f} -> {b['e2e_msgs_per_s']:.0f} ({e:.3f})  pss {p:+.1f}  load {a.get('loadavg_before','')}")
if cpu:
    print(f"n={len(cpu)} relay CPU median {statistics.median(cpu):.3f} (≤1 in {sum(c <= 1 for c in cpu)}), e2e median {statistics.median(e2e):.3f}, PSS median {statistics.median(pss):+.1f} MB;"
          f" {A} cpu median {statistics.median(r['relay_cpu_s_per_1k'] for r in runs[A]):.3f}, {B} {statistics.median(r['relay_cpu_s_per_1k'] for r in runs[B]):.3f}")
