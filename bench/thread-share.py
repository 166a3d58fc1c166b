#!/usr/bin/env python3
# thread-share.py OUT.json: waits for a relay started by the harness (a command line containing $RELAY_MATCH, default
# 'postlane.js start --config /tmp/lead-bench/runs': the lead's copy of ../shared/bench), samples each of its threads' CPU
# every 0.5 s until it exits, writes every interval's share of a core of the main thread, the busiest other thread, the
# whole relay and the machine's busy fraction (/proc/stat), and prints their medians over the loaded intervals (issue 14,
# twenty-seventh session: is one relay thread saturated while the machine idles?). Start it, then the run.
import os, sys, time, glob, json
MATCH = os.environ.get('RELAY_MATCH', 'postlane.js start --config /tmp/lead-bench/runs')
out = sys.argv[1]; HZ = os.sysconf('SC_CLK_TCK')
def find():
    for p in glob.glob('/proc/[0-9]*/cmdline'):
        try:
            c = open(p,'rb').read().replace(b'\0', b' ').decode()
        except Exception: continue
        if MATCH in c: return int(p.split('/')[2])
    return None
def threads(pid):
    d = {}
    for t in glob.glob(f'/proc/{pid}/task/*/stat'):
        try: s = open(t).read()
        except Exception: continue
        f = s[s.rindex(')')+2:].split(); d[int(t.split('/')[4])] = int(f[11]) + int(f[12])
    return d
def machine():
    f = open('/proc/stat').readline().split()[1:]; v = list(map(int, f)); idle = v[3] + v[4]; return sum(v), idle
pid = None
while pid is None: pid = find(); time.sleep(0.2)
rows = []; prev = threads(pid); pm = machine(); pt = time.time()
while os.path.exists(f'/proc/{pid}'):
    time.sleep(0.5)
    cur = threads(pid); cm = machine(); ct = time.time()
    if not cur: break
    dt = ct - pt
    per = {k: (cur[k] - prev.get(k, 0)) / HZ / dt for k in cur}
    main = per.get(pid, 0); others = sorted((v for k, v in per.items() if k != pid), reverse=True)
    busy = 1 - (cm[1] - pm[1]) / max(1, cm[0] - pm[0])
    rows.append({'t': round(ct, 2), 'main': round(main, 3), 'other1': round(others[0] if others else 0, 3), 'all': round(sum(per.values()), 3), 'machine_busy': round(busy, 3)})
    prev, pm, pt = cur, cm, ct
json.dump(rows, open(out, 'w'))
load = [r for r in rows if r['all'] > 0.3]
if load:
    import statistics as st
    print(f"{len(load)} loaded intervals: main thread median {st.median(r['main'] for r in load):.2f} of a core (p90 {sorted(r['main'] for r in load)[int(len(load)*0.9)]:.2f}), "
          f"busiest other {st.median(r['other1'] for r in load):.2f}, relay all {st.median(r['all'] for r in load):.2f}, machine busy {st.median(r['machine_busy'] for r in load):.2f}")
