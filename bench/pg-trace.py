#!/usr/bin/env python3
# pgapi25: api-trace.py's episodes (p99+ requests whose windows overlap) seen from the PostgreSQL server: its processes'
# CPU and run-queue wait (bench/pg-sched-sample.py's file, CLOCK_MONOTONIC as the client's trace) in each episode against
# the run's mean rate, and the p99+ requests' split: to the relay, the relay's work before the put, the put (body written
# to the handler's end: the pool's wait, the round trip, the answer's turn on the main thread) and the rest.
#   python3 bench/pg-trace.py PREFIX PG_SCHED_JSONL
import json, glob, os, struct, sys
prefix, pgs = sys.argv[1], sys.argv[2]
client = json.load(open(sorted(glob.glob(f'{prefix}.client-*.json'), key=os.path.getmtime)[-1]))
data = open(f'{prefix}.main.f64', 'rb').read()
ev = {}
for i in range(0, len(data), 24):
    code, a, t = struct.unpack_from('3d', data, i)
    if int(code) in (1, 12, 8, 9): ev.setdefault(int(a), {}).setdefault(int(code), t)
lat = sorted(c[3] - c[1] for c in client); p99 = lat[int(len(lat) * 0.99)]
t0, t1 = min(c[1] for c in client), max(c[3] for c in client)
slow = sorted([c for c in client if c[3] - c[1] >= p99], key=lambda c: c[1])
eps = []
for c in slow:
    if eps and c[1] <= eps[-1][1]: eps[-1][1] = max(eps[-1][1], c[3]); eps[-1][2].append(c)
    else: eps.append([c[1], c[3], [c]])
samples = [json.loads(l) for l in open(pgs)]
def usage(a, b):
    """CPU and run-queue wait ms by role between the samples nearest a and b"""
    s0 = min(samples, key=lambda s: abs(s[0] - a)); s1 = min(samples, key=lambda s: abs(s[0] - b))
    before = {r[0]: r for r in s0[1]}; out = {}
    for pid, role, run, wait in s1[1]:
        r0 = before.get(pid, [pid, role, 0, 0]) if pid in before else [pid, role, run, wait] if role != 'mine' else [pid, role, 0, 0]
        o = out.setdefault(role, [0.0, 0.0]); o[0] += (run - r0[2]) / 1e6; o[1] += (wait - r0[3]) / 1e6
    return s1[0] - s0[0], out
def fmt(span, u, scale=1.0):
    return ', '.join(f'{k} {v[0] * scale:.0f}/{v[1] * scale:.0f}' for k, v in sorted(u.items()) if abs(v[0]) + abs(v[1]) >= 0.5 * (1 / scale if scale else 1))
span, whole = usage(t0, t1)
print(f'{prefix}: p99 {p99:.1f} ms; PostgreSQL CPU/run-queue wait ms over the run ({span:.0f} ms sampled): {fmt(span, whole)}')
def split(cs):
    k = [0.0] * 4; n = 0
    for c in cs:
        e = ev.get(int(c[0]), {})
        if not all(x in e for x in (1, 12, 8)): continue
        n += 1; k[0] += e[1] - c[1]; k[1] += e[12] - e[1]; k[2] += e[8] - e[12]; k[3] += c[3] - e[8]
    return n, [x / max(n, 1) for x in k]
mid = sorted(client, key=lambda c: c[3] - c[1])[len(client) * 45 // 100: len(client) * 55 // 100]
for name, cs in (('middle tenth', mid), ('p99+', slow)):
    n, k = split(cs)
    print(f'  {name:12s} ({n}): due -> onRequest {k[0]:.2f}, onRequest -> body written {k[1]:.2f}, put (body written -> handler end) {k[2]:.2f}, reply {k[3]:.2f} ms')
for a, b, cs in eps:
    sp, u = usage(a - 20, b)
    print(f'  episode t+{a - t0:6.0f} ms, {b - a:4.0f} ms, {len(cs):2d} req: [{sp:.0f} ms sampled] {fmt(sp, u)}  | run mean for that span: {fmt(sp, whole, sp / span)}')
