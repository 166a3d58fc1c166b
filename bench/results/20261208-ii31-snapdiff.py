#!/usr/bin/env python3
"""ii31-snapdiff.py N PREFIX: per message over the window, per thread (ii31-prof.sh's .snap0/.snap1):
user / system CPU ms (clock ticks, 100 Hz) and rchar / wchar KB, syscalls r/w; threads grouped by role."""
import sys, os
N = int(sys.argv[1]); P = sys.argv[2]; HZ = os.sysconf('SC_CLK_TCK')
def load(f):
    d = {}
    for l in open(f):
        p = l.split()
        if len(p) < 4: continue
        tid, comm = p[0], p[1]; nums = [int(x) for x in p[2:]] + [0] * 7
        d[tid] = (comm, nums[:7])
    return d
a, b = load(P + '.snap0'), load(P + '.snap1')
main = min(b, key=int)
rows = []
for tid, (comm, n1) in b.items():
    n0 = a.get(tid, (comm, [0] * 7))[1]
    d = [x - y for x, y in zip(n1, n0)]
    rows.append((tid, comm, d))
tot = [0.0] * 7
print(f"{'tid':>7} {'comm':16} {'user ms':>8} {'sys ms':>8} {'rchar KB':>9} {'wchar KB':>9} {'syscr':>6} {'syscw':>6}")
for tid, comm, d in sorted(rows, key=lambda r: -(r[2][0] + r[2][1])):
    u, s = d[0] * 1000 / HZ / N, d[1] * 1000 / HZ / N
    if u + s == 0 and d[2] == 0: continue
    tag = ' (main)' if tid == main else ''
    print(f"{tid:>7} {comm[:16]:16} {u:8.3f} {s:8.3f} {d[2]/1024/N:9.1f} {d[3]/1024/N:9.1f} {d[4]/N:6.1f} {d[5]/N:6.1f}{tag}")
    for i in range(6): tot[i] += d[i]
print(f"{'all':>7} {'':16} {tot[0]*1000/HZ/N:8.3f} {tot[1]*1000/HZ/N:8.3f} {tot[2]/1024/N:9.1f} {tot[3]/1024/N:9.1f} {tot[4]/N:6.1f} {tot[5]/N:6.1f}")
