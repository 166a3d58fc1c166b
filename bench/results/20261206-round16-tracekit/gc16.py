#!/usr/bin/env python3
# gc16.py RELAY_LOG: --trace-gc pauses per isolate
import re, collections, sys
iso = collections.defaultdict(list)
for l in open(sys.argv[1]):
    m = re.search(r'\[\d+:(0x[0-9a-f]+)\]\s+([\d.]+) ms: (Scavenge|Mark-Compact|Mark-sweep)[^,]*?, ([\d.]+) / ([\d.]+) ms', l)
    if m: iso[m.group(1)].append((float(m.group(2)), m.group(3), float(m.group(4))))
for k, v in iso.items():
    sc = sorted(d for t, n, d in v if n == 'Scavenge'); mc = [d for t, n, d in v if n != 'Scavenge']
    print('  isolate %s: %d scavenges, %.0f ms (mean %.2f, p50 %.2f, p90 %.2f ms); %d mark-compacts %.0f ms' % (k, len(sc), sum(sc), sum(sc)/len(sc), sc[len(sc)//2], sc[int(.9*len(sc))], len(mc), sum(mc)))
