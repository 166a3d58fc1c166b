#!/usr/bin/env python3
# icparse.py v8.log T0_EPOCH N [top]: IC events after the measured batch began, per site, per message
import sys, bisect, csv, collections, os
csv.field_size_limit(1<<30)
log, t_measure, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
starts = []; code = {}
counts = collections.Counter(); trans = collections.defaultdict(collections.Counter)
total = collections.Counter()
# time base: the log's times are µs since the isolate began; the file's ctime ~ start
times = []
events = []
with open(log, newline='') as f:
    for row in csv.reader(f):
        if not row: continue
        k = row[0]
        if k == 'code-creation':
            try: a = int(row[4], 16); s = int(row[5])
            except: continue
            name = row[6]
            if a not in code: bisect.insort(starts, a)
            code[a] = (s, name)
        elif k == 'code-move':
            a = int(row[1], 16); b = int(row[2], 16)
            if a in code:
                v = code.pop(a); i = bisect.bisect_left(starts, a); starts.pop(i)
                if b not in code: bisect.insort(starts, b)
                code[b] = v
        elif k.endswith('IC') and k.isalnum():
            pc = int(row[1], 16); t = int(row[2])
            i = bisect.bisect_right(starts, pc) - 1
            fn = '?'
            if i >= 0:
                a = starts[i]; s, name = code[a]
                if pc < a + s + 1: fn = name
            events.append((t, k, fn, row[3], row[4], row[5], row[6], row[8], row[10] if len(row) > 10 else ''))
# the measured batch: after the largest idle gap (the sleep between warm-up and batch)
ts = [e[0] for e in events]
gaps = [(ts[i+1] - ts[i], i+1) for i in range(len(ts)-1)]
# the last gap >= 3 s before the end's sleep: choose the largest gap in the first 95 %
cut = max(gaps[:int(len(gaps)*0.97)])[1]
meas = events[cut:]
print(f"events total {len(events)}, measured {len(meas)} ({len(meas)/n:.1f}/msg), gap {max(gaps[:int(len(gaps)*0.97)])[0]/1e6:.1f}s")
for e in meas:
    t, k, fn, line, col, old, new, key, reason = e
    site = (k, fn, line, col, key)
    counts[site] += 1; trans[site][old + '>' + new] += 1
    total[k] += 1
print('by type per msg:', {k: round(v/n, 2) for k, v in total.most_common()})
own = collections.Counter()
for site, c in counts.items():
    fn = site[1]
    own['postlane' if '/dist/src/' in fn else ('node' if 'node:' in fn else 'other')] += c
print('by owner per msg:', {k: round(v/n, 2) for k, v in own.most_common()})
filt = sys.argv[5] if len(sys.argv) > 5 else ''
for site, c in counts.most_common():
    if filt and filt not in site[1]: continue
    if top <= 0: break
    top -= 1
    k, fn, line, col, key = site
    fn = fn.replace('file:///', '').replace('/work/wt-ic18/', '').replace('/tmp/ic18-base/', 'B/')
    print(f"{c/n:7.3f} {k:14s} {fn[:70]:70s} @{line}:{col} key={key[:30]} {dict(trans[site].most_common(3))}")
