#!/usr/bin/env python3
"""ii31-strace-sum.py N FILE.strace: strace -f -y -T of the relay over N messages -> per thread and per file kind
(the WAL, queue.db, a TCP socket, other), calls and bytes a message for each syscall, and the time strace saw in them."""
import sys, re, collections
N = int(sys.argv[1])
pat = re.compile(r'^(\d+)\s+(\w+)\((\d+)<([^>]*)>(.*)\)\s+=\s+(-?\d+)(?:[^<]*)<([\d.]+)>')
agg = collections.defaultdict(lambda: [0, 0, 0.0])
thr = collections.Counter()
for l in open(sys.argv[2]):
    m = pat.match(l)
    if not m: continue
    tid, call, fd, path, rest, ret, t = m.groups()
    kind = ('wal' if path.endswith('-wal') else 'db' if path.endswith('queue.db') else 'shm' if path.endswith('-shm')
            else 'tcp' if path.startswith('TCP') or 'socket' in path else 'pipe' if 'pipe' in path else 'other:' + path[-20:])
    r = int(ret)
    agg[(tid, call, kind)][0] += 1
    agg[(tid, call, kind)][1] += max(r, 0) if call in ('read', 'write', 'writev', 'pread64', 'pwrite64') else 0
    agg[(tid, call, kind)][2] += float(t)
    thr[tid] += 1
print(f"{'tid':>7} {'syscall':10} {'kind':10} {'calls/msg':>9} {'KB/msg':>8} {'us/msg (strace)':>16}")
for (tid, call, kind), (c, b, t) in sorted(agg.items(), key=lambda kv: (kv[0][0], -kv[1][0])):
    if c / N < 0.05: continue
    print(f"{tid:>7} {call:10} {kind:10} {c/N:9.2f} {b/1024/N:8.1f} {t*1e6/N:16.1f}")
print('calls a message by thread:', {k: round(v / N, 1) for k, v in thr.items()})
