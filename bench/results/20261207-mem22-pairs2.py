#!/usr/bin/env python3
"""pairs2.py FILE.jsonl A B : pairs.py plus anonymous peaks (from runs/<id>/mem.json) and minor faults (rusage)."""
import json, sys, os, glob, statistics as st
f, a, b = sys.argv[1:4]
R = '/tmp/mem22-bench/runs'
rows = [json.loads(l) for l in open(f) if l.strip()]
if len(sys.argv) > 4: rows = [r for r in rows if r['ts'] >= sys.argv[4]]
def key(r): return r.get('variant') or r.get('relay')
def extra(r):
    d = os.path.join(R, r['run_id'])
    m = json.load(open(os.path.join(d, 'mem.json'))) if os.path.exists(os.path.join(d, 'mem.json')) else {}
    ru = [json.load(open(p)) for p in glob.glob(os.path.join(d, 'relay/log/rusage-*.json'))]
    flt = sum(u['minorPageFault'] for u in ru) if ru else None
    return m.get('peak_anon_sum_kb', 0) / 1024, m.get('peak_pss_anon_sum_kb', 0) / 1024, flt
A = [r for r in rows if key(r) == a]; B = [r for r in rows if key(r) == b]
cols = {k: [] for k in 'e c p an fl'.split()}
for i, (x, y) in enumerate(zip(A, B)):
    ex, ey = extra(x), extra(y)
    e = y['e2e_msgs_per_s'] / x['e2e_msgs_per_s']; c = y['relay_cpu_s_per_1k'] / x['relay_cpu_s_per_1k']
    p = y['peak_pss_sum_mb'] - x['peak_pss_sum_mb']; an = ey[0] - ex[0]
    fl = (ey[2] / x['n'] - ex[2] / x['n']) if ex[2] and ey[2] else None
    for k, v in zip('e c p an'.split(), (e, c, p, an)): cols[k].append(v)
    if fl is not None: cols['fl'].append(fl)
    print(f"{i+1}: e2e {e:.3f} cpu {c:.3f} pss {p:+.1f} anon {an:+.1f}  ({x['e2e_msgs_per_s']:.0f}/{y['e2e_msgs_per_s']:.0f} msg/s, "
          f"{x['relay_cpu_s_per_1k']:.3f}/{y['relay_cpu_s_per_1k']:.3f} ms, pss {x['peak_pss_sum_mb']:.1f}/{y['peak_pss_sum_mb']:.1f}, anon {ex[0]:.1f}/{ey[0]:.1f} MB, "
          f"minflt/msg {'' if fl is None else '%.1f/%.1f' % (ex[2]/x['n'], ey[2]/x['n'])}) load {x.get('loadavg_before','').split()[0]}/{y.get('loadavg_before','').split()[0]}")
if cols['e']:
    print(f"median (n={len(cols['e'])}): e2e {st.median(cols['e']):.3f} cpu {st.median(cols['c']):.3f} pss {st.median(cols['p']):+.1f} anon {st.median(cols['an']):+.1f}"
          + (f" minflt/msg {st.median(cols['fl']):+.1f}" if cols['fl'] else ''))
