import json, sys
lat_file, trace_file, M = sys.argv[1], sys.argv[2], int(sys.argv[3])
run = [json.loads(l) for l in open(lat_file) if json.loads(l)['messages'] == M][-1]
reqs = sorted(run['requests']); t0 = reqs[0][0]
tr = json.load(open(trace_file))
R = [r for r in tr['reqs'] if 'start' in r and 'done' in r and r['start'] >= t0 - 5]
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs)-1, int(len(xs)*p))] if xs else float('nan')
B = 250
print("bucket  client:n p50 p99 | relay: p50 total, p50/p99 queue wait, p50/p99 batch commit, batch size p50, alone | gc ms")
cb = {}; rb = {}
for s, l in reqs: cb.setdefault(int((s-t0)//B), []).append(l)
for r in R: rb.setdefault(int((r['start']-t0)//B), []).append(r)
gcb = {}
for g in tr['gc']:
    if g[0] >= t0: gcb[int((g[0]-t0)//B)] = gcb.get(int((g[0]-t0)//B), 0) + g[1]
for b in sorted(cb):
    rs = rb.get(b, [])
    qw = [r['batchStart']-r['enqueued'] for r in rs if 'batchStart' in r]
    bc = [r['committed']-r['batchStart'] for r in rs if 'committed' in r]
    tot = [r['done']-r['start'] for r in rs]
    bs = [r['batchSize'] for r in rs if 'batchSize' in r]
    print(f"{b*B/1000:5.2f}s {len(cb[b]):4d} {pct(cb[b],.5):6.1f} {pct(cb[b],.99):6.1f} | {pct(tot,.5):5.1f} {pct(qw,.5):5.1f}/{pct(qw,.99):5.1f} {pct(bc,.5):5.1f}/{pct(bc,.99):5.1f} {pct(bs,.5):4} {sum(1 for x in bs if x==1):3d} | {gcb.get(b,0):5.1f}")
