#!/usr/bin/env python3
"""pairs.py FILE.jsonl A B [RUNS_DIR]: k-th run of A paired with k-th of B: e2e ratio, relay CPU ratio,
peak PSS and anonymous (mem.json) differences, and the relay's minor faults per message over its life
(faults.txt written by the faults.cjs preload: last sample)."""
import json, sys, os, statistics as st
f, a, b = sys.argv[1:4]
R = sys.argv[4] if len(sys.argv) > 4 else '/tmp/deopt23-bench/runs'
rows = [json.loads(l) for l in open(f) if l.strip()]
def extra(r):
    d = os.path.join(R, r['run_id'])
    m = json.load(open(os.path.join(d, 'mem.json'))) if os.path.exists(os.path.join(d, 'mem.json')) else {}
    flt = None
    p = os.path.join(d, 'relay/log/faults.txt')
    if os.path.exists(p):
        last = [l.split() for l in open(p) if l.strip()][-1]
        flt = int(last[1])
    return m.get('peak_anon_sum_kb', 0) / 1024, flt
A = [r for r in rows if r['relay'] == a]; B = [r for r in rows if r['relay'] == b]
cols = {k: [] for k in 'e c p an fl'.split()}
for i, (x, y) in enumerate(zip(A, B)):
    ex, ey = extra(x), extra(y)
    e = y['e2e_msgs_per_s'] / x['e2e_msgs_per_s']; c = y['relay_cpu_s_per_1k'] / x['relay_cpu_s_per_1k']
    p = y['peak_pss_sum_mb'] - x['peak_pss_sum_mb']; an = ey[0] - ex[0]
    n = x['n'] + x.get('warmup', 0)
    fl = (ey[1] - ex[1]) / n if ex[1] and ey[1] else None
    for k, v in zip('e c p an'.split(), (e, c, p, an)): cols[k].append(v)
    if fl is not None: cols['fl'].append(fl)
    print(f"{i+1}: e2e {e:.3f} cpu {c:.3f} pss {p:+.1f} anon {an:+.1f}  ({x['e2e_msgs_per_s']:.0f}/{y['e2e_msgs_per_s']:.0f} msg/s, "
          f"{x['relay_cpu_s_per_1k']:.3f}/{y['relay_cpu_s_per_1k']:.3f} ms, anon {ex[0]:.1f}/{ey[0]:.1f} MB, "
          f"life minflt/msg {'' if fl is None else '%.1f/%.1f' % (ex[1]/n, ey[1]/n)}) load {x.get('loadavg_before','').split()[0]}/{y.get('loadavg_before','').split()[0]}")
if cols['e']:
    print(f"median (n={len(cols['e'])}): e2e {st.median(cols['e']):.3f} cpu {st.median(cols['c']):.3f} pss {st.median(cols['p']):+.1f} anon {st.median(cols['an']):+.1f}"
          + (f" life minflt/msg {st.median(cols['fl']):+.2f}" if cols['fl'] else ''))
