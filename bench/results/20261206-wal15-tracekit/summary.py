#!/usr/bin/env python3
# summary.py TRACEDIR: the SQLite worker's round as a put sees it (throwaway wal15 trace: rounds.jsonl, commits.jsonl, worker.jsonl)
import json, sys
d = sys.argv[1]
R = [json.loads(l) for l in open(f'{d}/rounds.jsonl')]
C = [json.loads(l) for l in open(f'{d}/commits.jsonl')]
W = [json.loads(l) for l in open(f'{d}/worker.jsonl')]
puts = sorted(r for r in R if r[0] == 'put')
# measured window: after the longest gap (>= 300 ms) between put calls (the harness's warm-up, then its pause)
gaps = [(puts[i][1] - puts[i-1][1], i) for i in range(1, len(puts))]
g, gi = max(gaps)
if g < 300: gi = 0
t0 = puts[gi][1]; t1 = max(r[-1] for r in puts)
W_ = [r for r in R if t0 <= r[1] <= t1]
P = [r for r in W_ if r[0] == 'put']
def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float('nan')
def row(name, xs):
    m = sum(xs) / len(xs) if xs else float('nan')
    return f"| {name} | {m:.2f} | {pct(xs,.5):.2f} | {pct(xs,.9):.2f} | {pct(xs,.99):.2f} | {max(xs) if xs else 0:.2f} |"
print(f"window {(t1-t0)/1000:.2f} s, gap before it {g:.0f} ms; puts {len(P)} ({len(P)/((t1-t0)/1000):.0f}/s)")
# write layout: op tc tp recv start e0 e1 c0 c1 f1 ck n s done
seg = {
 'outbox (call -> postMessage, main)': lambda r: r[2] - r[1],
 'port (posted -> worker reads it: worker busy)': lambda r: r[3] - r[2],
 'array (behind earlier requests of its message)': lambda r: r[4] - r[3],
 'begin (BEGIN IMMEDIATE if first)': lambda r: r[5] - r[4],
 'own statements (savepoint)': lambda r: r[6] - r[5],
 'batch (after own statements, until COMMIT)': lambda r: r[7] - r[6],
 'COMMIT (incl. auto checkpoint)': lambda r: r[8] - r[7],
 'WAL fsync': lambda r: r[9] - r[8],
 'answers before its own': lambda r: r[12] - r[9],
 'back (answer -> main settles it)': lambda r: r[13] - r[12],
 'total': lambda r: r[13] - r[1],
}
print("\nput round, ms | mean | p50 | p90 | p99 | max |\n|---|---|---|---|---|---|")
for k, f in seg.items(): print(row(k, [f(r) for r in P]))
ck = [r for r in P if r[10]]
print(f"\nputs whose commit carried an automatic checkpoint: {len(ck)} of {len(P)} ({100*len(ck)/max(1,len(P)):.1f} %)")
print("those puts: " + row('total', [r[13]-r[1] for r in ck]) + " COMMIT " + row('', [r[8]-r[7] for r in ck]))
nk = [r for r in P if not r[10]]
print("the others: " + row('total', [r[13]-r[1] for r in nk]))
# share of the puts' p99 tail: puts over p99 total
p99 = pct([r[13]-r[1] for r in P], .99)
tail = [r for r in P if r[13]-r[1] >= p99]
print(f"puts at/over p99 ({p99:.1f} ms): {len(tail)}, {sum(1 for r in tail if r[10])} carried a checkpoint")
print("tail means: " + ", ".join(f"{k.split(' (')[0]} {sum(f(r) for r in tail)/max(1,len(tail)):.1f}" for k, f in seg.items()))
# other ops
print("\nother requests in the window (round total ms: mean p50 p99; count)")
for op in sorted(set(r[0] for r in W_)):
    rs = [r for r in W_ if r[0] == op]
    tot = [r[-1] - r[1] for r in rs]
    print(f"  {op}: {sum(tot)/len(tot):.2f} {pct(tot,.5):.2f} {pct(tot,.99):.2f}; n={len(rs)}")
# commits in the window
Cw = [c for c in C if t0 <= c[1] <= t1]
span = (t1 - t0)
cm = [c[2]-c[1] for c in Cw]; ckc = [c for c in Cw if c[5]]
print(f"\ncommits {len(Cw)} ({1000*len(Cw)/span:.0f}/s), with checkpoint {len(ckc)} ({1000*len(ckc)/span:.2f}/s, one per {len(P)/max(1,len(ckc)):.0f} puts)")
print("COMMIT ms without checkpoint: " + row('', [c[2]-c[1] for c in Cw if not c[5]]))
print("COMMIT ms with checkpoint:    " + row('', [c[2]-c[1] for c in ckc]))
print("fsync ms:                     " + row('', [c[3]-c[2] for c in Cw if c[4]]))
print(f"WAL frames at commit: max {max(c[8] for c in Cw)}; pages per commit ~{sum(max(0,c[8]-c[6]) for c in Cw)/max(1,len(Cw)):.1f}")
# the worker's time budget over the window, ms per second
w0 = max((w for w in W if w['T'] <= t0), key=lambda w: w['T'], default=W[0]); w1 = max((w for w in W if w['T'] <= t1), key=lambda w: w['T'])
sec = (w1['T'] - w0['T']) / 1000
print(f"\nworker time budget, ms per s of window ({sec:.1f} s); ELU mean {sum(w['elu'] for w in W if w0['T']<w['T']<=w1['T'])/max(1,sum(1 for w in W if w0['T']<w['T']<=w1['T'])):.2f}")
tot = 0
for k in sorted(k for k in w1 if k.startswith('ms_')):
    v = (w1.get(k,0) - w0.get(k,0)) / sec; tot += 0 if k == 'ms_commit_ckpt' else v
    n = k[3:]; cnt = (w1.get('req_'+n, 0) - w0.get('req_'+n, 0)) if 'req_'+n in w1 else (w1.get(n+'s', 0) - w0.get(n+'s', 0))
    print(f"  {n}: {v:.1f} ms/s ({cnt/sec:.0f}/s)")
print(f"  (sum without ms_commit_ckpt: {tot:.0f} ms/s)")
