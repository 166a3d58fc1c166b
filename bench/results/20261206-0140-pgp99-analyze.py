#!/usr/bin/env python3
# Where the p99 comes from: the client's per-request latencies (PL_BENCH_LAT_FILE) joined with the relay's
# phase trace (PL_TRACE_FILE-<pid>.json from the trace patch + preload). Usage: analyze.py LATFILE TRACEJSON [MESSAGES]
import json, sys, statistics as st
lat_file, trace_file = sys.argv[1], sys.argv[2]
M = int(sys.argv[3]) if len(sys.argv) > 3 else None
runs = [json.loads(l) for l in open(lat_file)]
run = [r for r in runs if M is None or r['messages'] == M][-1]
reqs = sorted(run['requests'])
t_first = reqs[0][0]; t_last = max(s + l for s, l in reqs)
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float('nan')
lats = [l for _, l in reqs]
n = len(reqs)
print(f"client: {n} requests over {(t_last - t_first)/1000:.2f} s = {n/((t_last-t_first)/1000):.0f} msg/s; p50 {pct(lats,.5):.1f} p99 {pct(lats,.99):.1f} max {max(lats):.1f}")
tenth = n // 10
print(f"  first tenth (by start): p50 {pct(lats[:tenth],.5):.1f} p99 {pct(lats[:tenth],.99):.1f}; rest p50 {pct(lats[tenth:],.5):.1f} p99 {pct(lats[tenth:],.99):.1f}")
slow = pct(lats, .99)
idx_slow = [i for i, (_, l) in enumerate(reqs) if l >= slow]
print(f"  slowest 1% ({len(idx_slow)}): start offsets (s) {[round((reqs[i][0]-t_first)/1000,2) for i in idx_slow][:40]}")
# time buckets
B = 250
print("  by 250 ms of start: bucket n p50 p99")
buckets = {}
for s, l in reqs: buckets.setdefault(int((s - t_first) // B), []).append(l)
for b in sorted(buckets)[:8]: print(f"    {b*B/1000:5.2f}s {len(buckets[b]):4d} {pct(buckets[b],.5):6.1f} {pct(buckets[b],.99):6.1f}")
print(f"    ... {len(buckets)} buckets; the rest's bucket p99s: {[round(pct(buckets[b],.99)) for b in sorted(buckets)[8:]]}")
tr = json.load(open(trace_file))
R = [r for r in tr['reqs'] if 'start' in r and 'done' in r and t_first - 5 <= r['start'] <= t_last]
print(f"relay trace: {len(R)} requests in the window")
def ph(r, a, b): return r[b] - r[a] if a in r and b in r else None
phases = [('read+auth+parse', 'start', 'handler'), ('validate+prepare', 'handler', 'submit'), ('authorise', 'submit', 'authorised'),
          ('build', 'authorised', 'built'), ('pre-sign', 'built', 'signStart'), ('sign', 'signStart', 'signed'), ('body', 'signed', 'copied'),
          ('to-queue', 'copied', 'enqueued'), ('queue wait', 'enqueued', 'batchStart'), ('batch commit', 'batchStart', 'committed'),
          ('after commit', 'committed', 'stored'), ('to reply', 'stored', 'reply'), ('send', 'reply', 'done'), ('relay total', 'start', 'done')]
R.sort(key=lambda r: r['done'] - r['start'])
tot = [r['done'] - r['start'] for r in R]
top = R[int(len(R) * .99):]
mid = R[int(len(R) * .45):int(len(R) * .55)]
print(f"  relay total p50 {pct(tot,.5):.1f} p99 {pct(tot,.99):.1f}")
print(f"  {'phase':18s} {'p50':>7s} {'p99':>7s} {'mean(mid)':>9s} {'mean(top1%)':>11s}")
for name, a, b in phases:
    xs = [v for v in (ph(r, a, b) for r in R) if v is not None]
    m1 = [v for v in (ph(r, a, b) for r in mid) if v is not None]
    m2 = [v for v in (ph(r, a, b) for r in top) if v is not None]
    if xs: print(f"  {name:18s} {pct(xs,.5):7.2f} {pct(xs,.99):7.2f} {st.mean(m1) if m1 else float('nan'):9.2f} {st.mean(m2) if m2 else float('nan'):11.2f}")
bs = [r['batchSize'] for r in R if 'batchSize' in r]
print(f"  batch size of a request's batch: p50 {pct(bs,.5)} p90 {pct(bs,.9)} max {max(bs) if bs else None}; alone {sum(1 for b in bs if b==1)}")
# client minus relay: match by nearest? use relay total distribution vs client
gc = [g for g in tr['gc'] if t_first <= g[0] <= t_last]
print(f"GC in the window: {len(gc)} pauses, total {sum(g[1] for g in gc):.0f} ms, max {max((g[1] for g in gc), default=0):.1f} ms, kinds {sorted(set(g[2] for g in gc))}")
ov = 0
for r in top:
    if any(g[0] < r['done'] and g[0] + g[1] > r['start'] and g[1] >= 3 for g in gc): ov += 1
print(f"  slowest 1% (relay total) overlapping a GC pause >= 3 ms: {ov}/{len(top)}")
ov2 = sum(1 for r in mid if any(g[0] < r['done'] and g[0] + g[1] > r['start'] and g[1] >= 3 for g in gc))
print(f"  middle 10% overlapping one: {ov2}/{len(mid)}")
