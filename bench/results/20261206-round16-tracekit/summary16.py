#!/usr/bin/env python3
# summary16.py TRACEDIR [E2E_MSGS_PER_S]: an SMTP session's round on the relay's main thread (round16 throwaway trace:
# conns.jsonl, loop.jsonl; with wal15's rounds.jsonl for the put)
import json, sys, collections
d = sys.argv[1]
def pct(xs, q):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float('nan')
def row(name, xs):
    m = sum(xs) / len(xs) if xs else float('nan')
    return f"| {name} | {m:.3f} | {pct(xs,.5):.3f} | {pct(xs,.9):.3f} | {pct(xs,.99):.3f} | {len(xs)} |"
ARGS = {'a': 2, 'n': 1, 'r': 2, 'c': 2, 'w': 2, 'e': 2, 'f0': 1, 'f1': 1, 'x': 1}
conns = []
for l in open(f'{d}/conns.jsonl'):
    ev = json.loads(l); out = []; i = 0
    while i < len(ev):
        k = ev[i]; n = ARGS[k]; out.append((k, *ev[i+1:i+1+n])); i += 1 + n
    conns.append(out)
conns = [c for c in conns if c[0][0] == 'a']
conns.sort(key=lambda c: c[0][1])
acc = [c[0][1] for c in conns]
gaps = [(acc[i] - acc[i-1], i) for i in range(1, len(acc))]
g, gi = max(gaps)
if g < 300: gi = 0
C = conns[gi:]
t0 = C[0][0][1]; t1 = max(c[-1][1] for c in C)
span = (t1 - t0) / 1000
print(f"window {span:.2f} s after a gap of {g:.0f} ms; connections {len(C)} ({len(C)/span:.0f}/s)")
seg = collections.defaultdict(list)
for c in C:
    ta = c[0][1]
    ws = [e for e in c if e[0] in ('w', 'e')]
    if not ws: continue
    seg['accept -> Connection (admit)'].append(next(e[1] for e in c if e[0] == 'n') - ta)
    seg['accept -> 220 written'].append(ws[0][1] - ta)
    last_w = ws[0][1]; last_r = None; cur = None
    for idx, e in enumerate(c):
        k = e[0]
        if k == 'r':
            if last_w is not None and cur is None:
                seg['client turn (reply written -> next bytes read)'].append(e[1] - last_w)
            last_r = e[1]
            if cur is None: cur = e[1]
        elif k == 'c':
            verb = e[2].upper().strip()
            seg[f'{verb}: bytes read -> line parsed'].append(e[1] - last_r)
            pend = (verb, last_r, e[1])
        elif k == 'f0':
            seg['DATA body: 354 written -> end of data seen'].append(e[1] - last_w)
            fin0 = e[1]
        elif k == 'f1':
            seg['end of data -> put done (finish)'].append(e[1] - fin0)
            fin1 = e[1]
        elif k in ('w', 'e'):
            if cur is not None and pend:
                verb = pend[0]
                if verb == 'DATA' and '250' in str(e[2]) and '354' not in str(e[2]):
                    seg['put done -> 250 written'].append(e[1] - fin1)
                    seg['end of data -> 250 written'].append(e[1] - fin0)
                else:
                    seg[f'{verb}: bytes read -> reply written ({e[2]})'].append(e[1] - pend[1])
            last_w = e[1]; cur = None
        elif k == 'x':
            seg['221 written -> closed'].append(e[1] - last_w)
    seg['in connection (accept -> closed)'].append(c[-1][1] - ta)
print("\nper connection, ms | mean | p50 | p90 | p99 | n |\n|---|---|---|---|---|---|")
for k in seg: print(row(k, seg[k]))
L = sum(seg['in connection (accept -> closed)']) / len(seg['in connection (accept -> closed)'])
X = len(C) / span
print(f"\nLittle: {X:.0f} conn/s × {L:.2f} ms = {X*L/1000:.2f} connections open on average (20 client sessions): "
      f"each session spends {1000*20/X:.2f} ms per message, {L:.2f} of them inside the relay's connection, {1000*20/X - L:.2f} outside (connect, accept queue, client)")
# open-connection samples and loop
Lp = [json.loads(l) for l in open(f'{d}/loop.jsonl')]
Lw = [x for x in Lp if t0 <= x['T'] <= t1]
if Lw:
    print(f"\nmain thread over the window ({len(Lw)} samples of 100 ms): ELU mean {sum(x['elu'] for x in Lw)/len(Lw):.3f}, "
          f"open connections mean {sum(x['open'] for x in Lw)/len(Lw):.1f}")
    print("event-loop delay (monitorEventLoopDelay, per 100 ms sample), ms: " + row('mean of sample means', [x['dmean'] for x in Lw]) + "\n   " + row('sample p99', [x['d99'] for x in Lw]) + "\n   " + row('sample max', [x['dmax'] for x in Lw]))
    print("ELU per sample: " + row('', [x['elu'] for x in Lw]))
# client turns by which reply preceded
print("\nclient turn split by the reply before it:")
ct = collections.defaultdict(list)
for c in C:
    last = None
    for e in c:
        if e[0] in ('w', 'e'): last = e
        elif e[0] == 'r' and last is not None:
            ct[last[2]].append(e[1] - last[1]); last = None
for k in ct: print(row(f'after {k}', ct[k]))
