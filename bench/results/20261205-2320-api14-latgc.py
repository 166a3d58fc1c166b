import json, sys
lat = [json.loads(l) for l in open(sys.argv[1])]
gcs = [json.loads(l) for l in open(sys.argv[2])]
kinds = {1: 'scavenge', 2: 'minor-mc', 4: 'mark-compact', 8: 'incremental', 16: 'weak-cb'}
for run, (L, G) in enumerate(zip(lat, gcs)):
    t0, t1 = min(s for s, _ in L), max(s + l for s, l in L)
    G = [g for g in G if t0 <= g[0] <= t1]
    L.sort(key=lambda x: x[1])
    n = len(L); p = lambda q: L[min(n - 1, int(n * q))][1]
    print(f'run {run}: n {n}, dur {(t1-t0)/1000:.1f}s, p50 {p(.5)} p90 {p(.9)} p99 {p(.99)} max {L[-1][1]}')
    by = {}
    for s, d, k in G: by.setdefault(kinds.get(k, k), []).append(d)
    for k, ds in by.items(): print(f'   gc {k}: {len(ds)} pauses, total {sum(ds):.0f} ms, max {max(ds):.1f}, mean {sum(ds)/len(ds):.2f}')
    big = [(s, d) for s, d, k in G if d >= 5]
    hit = [x for x in L if any(s < x[0] + x[1] and s + d > x[0] for s, d in big)]
    top = L[int(n * .99):]
    tophit = [x for x in top if any(s < x[0] + x[1] and s + d > x[0] for s, d in big)]
    print(f'   GC pauses >= 5 ms: {len(big)}; requests overlapping one: {len(hit)} ({100*len(hit)/n:.1f} %); of the slowest 1 %: {len(tophit)}/{len(top)}')
    # time series: latency by start-time decile
    L2 = sorted(lat[run]); k = n // 10
    print('   p99 by tenth of the run:', [round(sorted(x[1] for x in L2[i*k:(i+1)*k])[int(k*.99)]) for i in range(10)])
