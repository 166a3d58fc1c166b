#!/usr/bin/env python3
# sched-share.py OUT.json: where the time of a harness run goes, per thread of every process in the pipeline
# (issue 14, twenty-eighth session: the sixth of the machine left idle in (i)). Waits for the relay (a command line
# containing $RELAY_MATCH, as thread-share.py), then every 0.5 s until the relay exits reads, for each thread of the
# relay and of every process whose name is in $PEERS (default smtp-source, smtp-sink):
#   on-CPU time and run-queue wait (/proc/PID/task/TID/schedstat: runnable but not running), and
# the machine's split (/proc/stat): busy (user+nice+system+irq+softirq), idle, iowait.
# Prints medians over the loaded intervals (relay above 0.3 of a core), as shares of one core (a thread) or of the
# machine, one line a thread (the process's main thread named "main"). Reading: run-queue wait high = the two cores are contended (hand-offs
# wait for a core); iowait high = the machine waits on the disk (fsync); idle with little of either = every party of
# the pipeline is blocked on another (latency of the hops themselves).
import os, sys, time, glob, json, statistics as st
MATCH = os.environ.get('RELAY_MATCH', 'postlane.js start --config /tmp/lead-bench/runs')
PEERS = os.environ.get('PEERS', 'smtp-source smtp-sink').split()
out = sys.argv[1]


def cmdline(p):
    try:
        return open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\0', b' ').decode()
    except Exception:
        return ''


def find_relay():
    for p in glob.glob('/proc/[0-9]*'):
        pid = p.split('/')[2]
        if MATCH in cmdline(pid):
            return int(pid)
    return None


def comm(path):
    try:
        return open(path).read().strip()
    except Exception:
        return None


def peers():
    res = []
    for p in glob.glob('/proc/[0-9]*/comm'):
        c = comm(p)
        if c in PEERS:
            res.append((int(p.split('/')[2]), c))
    return res


def sample(pid, group):
    d = {}
    for t in glob.glob(f'/proc/{pid}/task/*'):
        try:
            run, wait, _ = open(f'{t}/schedstat').read().split()
            name = open(f'{t}/comm').read().strip()
        except Exception:
            continue
        d[(group, pid, int(t.split('/')[4]))] = (name, int(run), int(wait))
    return d


def machine():
    v = list(map(int, open('/proc/stat').readline().split()[1:8]))
    user, nice, system, idle, iowait, irq, softirq = v
    return {'busy': user + nice + system + irq + softirq, 'idle': idle, 'iowait': iowait}


relay = None
while relay is None:
    relay = find_relay()
    time.sleep(0.1)


def all_samples():
    d = sample(relay, 'relay')
    for pid, c in peers():
        d.update(sample(pid, c))
    return d


rows = []
prev, pm, pt = all_samples(), machine(), time.monotonic()
while os.path.exists(f'/proc/{relay}'):
    time.sleep(0.5)
    cur, cm, ct = all_samples(), machine(), time.monotonic()
    dt = ct - pt
    tot = sum(cm[k] - pm[k] for k in cm) or 1
    threads = {}
    for k, (name, run, wait) in cur.items():
        if k in prev:
            _, r0, w0 = prev[k]
            # threads of a process often share one name ("node"): the main thread is named as such, others by tid
            key = f"{k[0]}/{'main' if k[1] == k[2] else name + ':' + str(k[2])}"
            a = threads.setdefault(key, [0.0, 0.0])
            a[0] += (run - r0) / 1e9 / dt
            a[1] += (wait - w0) / 1e9 / dt
    relay_cpu = sum(v[0] for k, v in threads.items() if k.startswith('relay/'))
    rows.append({'t': round(ct, 2), 'relay_cpu': round(relay_cpu, 3),
                 'machine': {k: round((cm[k] - pm[k]) / tot, 3) for k in cm},
                 'threads': {k: [round(v[0], 3), round(v[1], 3)] for k, v in threads.items()}})
    prev, pm, pt = cur, cm, ct
json.dump(rows, open(out, 'w'))
load = [r for r in rows if r['relay_cpu'] > 0.3]
if not load:
    print('no loaded intervals'); sys.exit(0)
med = lambda xs: st.median(xs) if xs else 0.0
m = {k: med([r['machine'][k] for r in load]) for k in ('busy', 'idle', 'iowait')}
print(f"{len(load)} loaded intervals; machine busy {m['busy']:.3f}, idle {m['idle']:.3f}, iowait {m['iowait']:.3f}")
keys = sorted({k for r in load for k in r['threads']})
summary = []
for k in keys:
    on = med([r['threads'].get(k, [0, 0])[0] for r in load])
    wait = med([r['threads'].get(k, [0, 0])[1] for r in load])
    if on + wait >= 0.005:
        summary.append((on, wait, k))
print(f"{'process/thread (shares of one core, medians)':52} {'on CPU':>7} {'runq wait':>9}")
for on, wait, k in sorted(summary, reverse=True):
    print(f'{k:52} {on:7.3f} {wait:9.3f}')
tot_on = sum(s[0] for s in summary); tot_wait = sum(s[1] for s in summary)
print(f"{'sum of the above':52} {tot_on:7.3f} {tot_wait:9.3f}")
