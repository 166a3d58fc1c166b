#!/usr/bin/env python3
# sched-timehist.py PERF_DATA [COMM...]: reads `perf sched timehist` of a `perf sched record -a` taken during a harness
# run (issue 14, twenty-eighth session: are (i)'s idle moments long waits, e.g. the WAL fsync, or the short gaps of
# hand-offs between the relay's and the harness's threads?). Prints the CPUs' idle time by the length of each idle
# stretch, and for the threads whose name is given (default: node smtp-source smtp-sink) the wake-up delay (woken →
# running: time on the run queue) and the time blocked before each run, as counts, medians and totals a second.
import subprocess, sys, statistics as st, collections
data = sys.argv[1]; comms = sys.argv[2:] or ['node', 'smtp-source', 'smtp-sink']
out = subprocess.run(['perf', 'sched', 'timehist', '-i', data], capture_output=True, text=True).stdout.splitlines()
rows = []
for line in out:
    p = line.split()
    if len(p) < 6 or not p[0][0].isdigit():
        continue
    try:
        t = float(p[0]); run = float(p[-1]); delay = float(p[-2]); wait = float(p[-3])
    except ValueError:
        continue
    name = ' '.join(p[2:-3])
    rows.append((t, p[1], name, wait, delay, run))
if not rows:
    sys.exit('no rows')
span = rows[-1][0] - rows[0][0]
idle = [r[5] for r in rows if r[2].startswith('<idle>')]
bins = [(0, 0.05), (0.05, 0.2), (0.2, 0.5), (0.5, 2), (2, 1e9)]
print(f'{span:.2f} s recorded, {len(rows)} switches; CPUs idle {sum(idle) / 1000 / span:.3f} cores ({len(idle)} idle stretches)')
for lo, hi in bins:
    sel = [x for x in idle if lo <= x < hi]
    print(f'  idle stretches {lo}–{hi if hi < 1e9 else "∞"} ms: {len(sel) / span:8.0f} a second, {sum(sel) / 1000 / span:.3f} cores')
groups = collections.defaultdict(list)
for t, cpu, name, wait, delay, run in rows:
    base = name.split('[')[0]
    if base in comms:
        groups[name].append((wait, delay, run))
print(f"{'thread':34} {'runs/s':>7} {'run ms med':>10} {'delay ms med':>12} {'p90':>6} {'delay cores':>11} {'blocked ms med':>14}")
for name, xs in sorted(groups.items(), key=lambda kv: -sum(x[2] for x in kv[1])):
    runs = [x[2] for x in xs]; delays = [x[1] for x in xs]; waits = [x[0] for x in xs]
    if sum(runs) / 1000 / span < 0.005:
        continue
    d = sorted(delays)
    print(f'{name:34} {len(xs) / span:7.0f} {st.median(runs):10.3f} {st.median(delays):12.3f} {d[int(len(d) * 0.9)]:6.3f} {sum(delays) / 1000 / span:11.3f} {st.median(waits):14.3f}')
