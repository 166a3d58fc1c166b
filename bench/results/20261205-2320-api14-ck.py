import json, sys
ck = [x for l in open(sys.argv[1]) for x in json.loads(l)]
lat = [json.loads(l) for l in open(sys.argv[2])]
print('commits', len(ck), 'messages in them', sum(x[3] for x in ck))
cm = sorted(x[1] for x in ck); fs = sorted(x[2] for x in ck); bn = sorted(x[3] for x in ck)
q = lambda a, p: a[min(len(a)-1, int(len(a)*p))]
print('COMMIT ms p50 %.2f p90 %.2f p99 %.2f max %.2f' % (q(cm,.5), q(cm,.9), q(cm,.99), cm[-1]))
print('fsync ms  p50 %.2f p90 %.2f p99 %.2f max %.2f' % (q(fs,.5), q(fs,.9), q(fs,.99), fs[-1]))
print('batch n   p50 %d p90 %d max %d' % (q(bn,.5), q(bn,.9), bn[-1]))
slow = [x for x in ck if x[1] > 5]
print('COMMITs > 5 ms:', len(slow), [(x[1], x[3]) for x in slow][:20])
for run, L in enumerate(lat):
    t0, t1 = min(s for s, _ in L), max(s + l for s, l in L)
    stalls = [(x[0] - x[1], x[1] + x[2]) for x in ck if t0 <= x[0] <= t1 and x[1] + x[2] > 5]
    n = len(L); Ls = sorted(L, key=lambda x: x[1]); top = Ls[int(n*.99):]
    hit = lambda r: any(s < r[0] + r[1] and s + d > r[0] for s, d in stalls)
    print(f'run {run}: stalls (commit+fsync > 5 ms) {len(stalls)}, total {sum(d for _, d in stalls):.0f} ms; requests overlapping: {sum(map(hit, L))}/{n}; slowest 1 %: {sum(map(hit, top))}/{len(top)}')
