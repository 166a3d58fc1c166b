#!/usr/bin/env python3
# body16.py TRACEDIR: how the DATA body arrives (reads between 354 and end of data; gaps between them)
import json, sys, collections
d = sys.argv[1]
ARGS = {'a': 2, 'n': 1, 'r': 2, 'c': 2, 'w': 2, 'e': 2, 'f0': 1, 'f1': 1, 'x': 1}
def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float('nan')
nreads = collections.Counter(); first = []; inter = []; sizes = collections.Counter(); total = []
for l in open(f'{d}/conns.jsonl'):
    ev = json.loads(l); out = []; i = 0
    while i < len(ev):
        k = ev[i]; n = ARGS[k]; out.append((k, *ev[i+1:i+1+n])); i += 1 + n
    try: j = next(i for i, e in enumerate(out) if e[0] == 'w' and str(e[2]) == '354')
    except StopIteration: continue
    rs = []
    for e in out[j+1:]:
        if e[0] == 'r': rs.append(e)
        if e[0] == 'f0': break
    if not rs: continue
    nreads[len(rs)] += 1; sizes[tuple(r[2] for r in rs)] += 1
    first.append(rs[0][1] - out[j][1]); inter.append(rs[-1][1] - rs[0][1]); total.append(rs[-1][1] - out[j][1])
print('reads per body:', dict(nreads))
print('read sizes (top 6):', sizes.most_common(6))
for name, xs in (('354 -> first body read', first), ('first -> last body read', inter), ('354 -> last body read', total)):
    print(f'{name}: mean {sum(xs)/len(xs):.2f} p50 {pct(xs,.5):.2f} p90 {pct(xs,.9):.2f} p99 {pct(xs,.99):.2f} ms (n={len(xs)})')
big = [x for x in inter if x >= 30]
print(f'first -> last >= 30 ms: {len(big)} of {len(inter)}')
