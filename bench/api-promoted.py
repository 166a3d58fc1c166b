#!/usr/bin/env python3
"""bench/api-tierup.sh run with TRACE_FLAGS=--trace-gc-nvp: per chunk (between the relay's 'cpu' lines) the main thread's
bytes allocated in the young generation and promoted to the old one a message (scavenges' allocated= / promoted=), and
the mark-compacts. In a closed loop at C clients a request lives while ~C others are served, so the promoted bytes a
message depend on what a request holds in flight, hardly on the machine's load.
  python3 bench/api-promoted.py OUT WARM,MSGS,MSGS,..."""
import re, sys
chunks = [[0, 0, 0, 0]]  # allocated, promoted, scavenges, mark-compacts
for line in open(sys.argv[1], errors='replace'):
    if line.startswith('{"cpuMs"'): chunks.append([0, 0, 0, 0]); continue
    m = re.search(r' gc=(\w+) ', line)
    if not m: continue
    if m.group(1) == 's':
        a = re.search(r' allocated=(\d+)', line); p = re.search(r' promoted=(\d+)', line)
        chunks[-1][0] += int(a.group(1)) if a else 0; chunks[-1][1] += int(p.group(1)) if p else 0; chunks[-1][2] += 1
    else: chunks[-1][3] += 1
msgs = [int(x) for x in sys.argv[2].split(',')]
print('| chunk | messages | allocated KB/msg | promoted KB/msg | scavenges | full GCs |')
print('|---|---|---|---|---|---|')
for i, n in enumerate(msgs):
    a, p, s, mc = chunks[i]
    print(f"| {i} | {n} | {a / n / 1024:.1f} | {p / n / 1024:.2f} | {s} | {mc} |")
