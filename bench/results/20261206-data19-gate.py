#!/usr/bin/env python3
# gate.py: per relay run (pid), main-thread sampled KB/msg (3200 msgs) and main-isolate scavenges/1k
import json, sys, glob, os, re, collections
N = 3200
res = collections.defaultdict(list)
for d in sorted(glob.glob('/tmp/data19-alloc/a*/')):
    name = os.path.basename(d.rstrip('/'))
    bypid = collections.defaultdict(list)
    for f in glob.glob(d + 'alloc-*.heapprofile'):
        pid = f.split('-')[-2]; bypid[pid].append(f)
    for pid, fs in bypid.items():
        main = max(fs, key=os.path.getsize)
        p = json.load(open(main)); tot = 0
        st = [p['head']]
        while st:
            n = st.pop(); tot += n['selfSize']; st.extend(n.get('children', []))
        # scavenges from the relay log of that pid
        sc = None
        for lg in glob.glob('/tmp/data19-bench/runs/*/relay/log/relay.log'):
            txt = open(lg, errors='replace').read()
            if f'[{pid}:' not in txt: continue
            c = collections.Counter(re.findall(r'\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: Scavenge', txt))
            sc = max(c.values()) * 1000 / N if c else None
        res[name].append((os.path.getmtime(main), tot / N / 1024, sc, pid))
for name, rows in sorted(res.items()):
    for t, kb, sc, pid in sorted(rows):
        print(f"{name:8s} pid {pid} KB/msg {kb:6.1f} scav/1k {sc if sc is None else round(sc,1)}")
