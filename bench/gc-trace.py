#!/usr/bin/env python3
import re, sys, collections
# bench/gc-trace.py relay.log...: per isolate, count and pause ms of Scavenge / Mark-Compact, and the
# incremental marking steps' ms, from node --trace-gc output
pat = re.compile(r'\[(\d+):(0x[0-9a-f]+)\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Compact \(reduce\))\s+([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) / ([\d.]+) ms(?:\s+\(\+ ([\d.]+) ms in \d+ steps)?')
for f in sys.argv[1:]:
    iso = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0.0, 0.0, 0.0]))
    for line in open(f, errors='replace'):
        m = pat.search(line)
        if not m: continue
        k = iso[m.group(2)][m.group(4)]
        k[0] += 1; k[1] += float(m.group(9)); k[2] += float(m.group(11) or 0); k[3] = max(k[3], float(m.group(8)))
    print(f)
    for i, kinds in iso.items():
        for kind, (n, ms, inc, peak) in kinds.items():
            print(f'  {i} {kind}: {n} x, pause {ms:.0f} ms, incremental {inc:.0f} ms, max committed heap {peak:.1f} MB')
