#!/usr/bin/env python3
"""main29-pairs.py FILE.jsonl A B RUNS_DIR: the k-th run of A paired with the k-th of B (as 20261207-deopt23-pairs.py):
e2e and relay CPU ratios, plus each run's main-thread and database-thread CPU a message over the relay's life
(bench/thread-cpu.cjs preload's last sample, relay/log/threads.txt: the main thread is the lowest tid, the database
thread the busiest other one), and their ratios. Medians at the end."""
import json, sys, os, statistics as st
f, a, b, R = sys.argv[1:5]
HZ = os.sysconf('SC_CLK_TCK')
rows = [json.loads(l) for l in open(f) if l.strip()]
def threads(r):
    p = os.path.join(R, r['run_id'], 'relay/log/threads.txt')
    if not os.path.exists(p): return None, None
    t = []
    for l in open(p).read().splitlines()[2:]:
        x = l.split()
        if len(x) >= 4: t.append((int(x[0]), int(x[-2]) + int(x[-1])))
    t.sort(); n = r['n'] + r.get('warmup', 0)
    ms = lambda ticks: 1000.0 * ticks / HZ / n
    return ms(t[0][1]), ms(max(v for _, v in t[1:]))
A = [r for r in rows if r['relay'] == a]; B = [r for r in rows if r['relay'] == b]
cols = {k: [] for k in 'e c m d'.split()}
for i, (x, y) in enumerate(zip(A, B)):
    e = y['e2e_msgs_per_s'] / x['e2e_msgs_per_s']; c = y['relay_cpu_s_per_1k'] / x['relay_cpu_s_per_1k']
    (mx, dx), (my, dy) = threads(x), threads(y)
    cols['e'].append(e); cols['c'].append(c)
    extra = ''
    if mx and my:
        cols['m'].append(my / mx); cols['d'].append(dy / dx)
        extra = f" main {my/mx:.3f} ({mx:.3f}/{my:.3f}) db {dy/dx:.3f} ({dx:.3f}/{dy:.3f})"
    print(f"{i+1}: e2e {e:.3f} cpu {c:.3f}{extra}  ({x['e2e_msgs_per_s']:.0f}/{y['e2e_msgs_per_s']:.0f} msg/s, "
          f"{x['relay_cpu_s_per_1k']:.3f}/{y['relay_cpu_s_per_1k']:.3f} ms) load {x.get('loadavg_before','').split()[0]}/{y.get('loadavg_before','').split()[0]}")
if cols['e']:
    print(f"median (n={len(cols['e'])}): e2e {st.median(cols['e']):.3f} relay cpu {st.median(cols['c']):.3f}"
          + (f" main thread {st.median(cols['m']):.3f} db thread {st.median(cols['d']):.3f}" if cols['m'] else '')
          + f"; relay cpu ratios {' '.join(f'{v:.3f}' for v in cols['c'])}")
