#!/usr/bin/env python3
"""api-send --before's per-run lines (its stdout, one or more files) as pairs (api27): for each store and loop, each
pair's candidate ÷ base (after ÷ before) of p99, msg/s, relay CPU a message, main-thread CPU, the other threads but the
busiest ("the rest": V8's helpers, mostly concurrent marking), and the main thread's mark-compact pauses; the medians of
the pair ratios, how many pairs went each way, each build's median p99 and mark-compacts per 10,000 messages.
A file whose name holds 'open' is the open loop. Usage: python3 bench/api-pairs.py MESSAGES FILE..."""
import re, statistics as st, sys
from collections import defaultdict
msgs = int(sys.argv[1])
RUN = re.compile(r'^\s+run (\d+) (\w+) (after|before) \d+ clients: (\d+) msg/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms.*?relay CPU ([\d.]+) ms/msg, '
                 r'main thread ([\d.]+) ms/msg \(busiest other thread ([\d.]+), the rest ([\d.]+)\).*?mark-compacts (\d+) \(([\d.]+) ms')
runs = defaultdict(lambda: defaultdict(dict))  # (loop, store) -> (file, run index) -> build -> figures
for f in sys.argv[2:]:
    loop = 'open' if 'open' in f else 'closed'
    for line in open(f):
        m = RUN.match(line)
        if not m: continue
        i, store, build, rate, p50, p99, cpu, main, other, rest, mc, mcms = m.groups()
        runs[(loop, store)][(f, int(i))][build] = dict(rate=float(rate), p50=float(p50), p99=float(p99), cpu=float(cpu), main=float(main),
                                                      rest=float(rest), mc=int(mc), mcms=float(mcms))
med = lambda xs: st.median(xs) if xs else float('nan')
print('| store, loop | pairs | p99 cand ÷ base: median (pairs below 1) | msg/s (pairs above 1) | relay CPU/msg (pairs below 1) | main thread CPU/msg | the rest CPU/msg | mark-compact pause ms | p99 ms, median run base → cand | mark-compacts /10k msgs base → cand (pairs fewer/more) |')
print('|---|---|---|---|---|---|---|---|---|---|')
for (loop, store), rs in sorted(runs.items()):
    pairs = [(r['after'], r['before']) for r in rs.values() if 'after' in r and 'before' in r]
    if not pairs: continue
    ratio = lambda k: [a[k] / b[k] for a, b in pairs if b[k]]
    p, rt, c = ratio('p99'), ratio('rate'), ratio('cpu')
    fewer = sum(a['mc'] < b['mc'] for a, b in pairs); more = sum(a['mc'] > b['mc'] for a, b in pairs)
    print(f"| {store}, {loop} | {len(pairs)} | {med(p):.3f} ({sum(x < 1 for x in p)} of {len(p)}) | {med(rt):.3f} ({sum(x > 1 for x in rt)}) | "
          f"{med(c):.3f} ({sum(x < 1 for x in c)}) | {med(ratio('main')):.3f} | {med(ratio('rest')):.3f} | {med(ratio('mcms')):.3f} | "
          f"{med([b['p99'] for a, b in pairs]):.1f} → {med([a['p99'] for a, b in pairs]):.1f} | "
          f"{med([b['mc'] for a, b in pairs]) * 10000 / msgs:.1f} → {med([a['mc'] for a, b in pairs]) * 10000 / msgs:.1f} ({fewer}/{more}) |")
    print(f"| | p99 ratio per pair: {' '.join(f'{x:.2f}' for x in p)}; relay CPU: {' '.join(f'{x:.2f}' for x in c)} | | | | | | | | |")
