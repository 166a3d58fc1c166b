#!/usr/bin/env python3
"""Polls the newest runs/*/relay/relay.pid under the harness dir; for each relay process seen, its
threads' cumulative CPU (utime+stime, s) by tid and name; prints the last sample of each pid at exit."""
import glob, os, sys, time, json
base = sys.argv[1]; dur = float(sys.argv[2]); out = sys.argv[3]
last = {}
t0 = time.time()
hz = os.sysconf('SC_CLK_TCK')
while time.time() - t0 < dur:
    for pf in glob.glob(base + '/runs/*/relay/relay.pid'):
        try: pid = int(open(pf).read().strip())
        except Exception: continue
        # the launcher's pid is setsid env ... node: find the node process (itself)
        try:
            tasks = os.listdir(f'/proc/{pid}/task')
        except Exception: continue
        snap = {}
        for t in tasks:
            try:
                st = open(f'/proc/{pid}/task/{t}/stat').read()
                name = st[st.index('(')+1:st.rindex(')')]
                f = st[st.rindex(')')+2:].split()
                snap[int(t)] = (name, (int(f[11]) + int(f[12])) / hz)
            except Exception: pass
        if snap: last[(pf, pid)] = snap
    time.sleep(0.5)
res = []
for (pf, pid), snap in last.items():
    res.append({'run': pf.split('/')[-3], 'pid': pid, 'threads': sorted([(tid, n, round(c, 2)) for tid, (n, c) in snap.items()])})
json.dump(res, open(out, 'w'), indent=1)
