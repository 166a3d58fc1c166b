#!/usr/bin/env python3
# api25: where the API's slowest requests' time went (bench/README.md, twenty-fifth session). Reads one traced run:
#   PREFIX.client-N.json  (api-client.ts with PL_TRACE: [seq, due, send, done] a request, CLOCK_MONOTONIC ms)
#   PREFIX.main.f64 / PREFIX.worker.f64  (an instrumented relay's (code, a, t) records: results/20261207-*-api25-instr.patch)
#   PREFIX.sched.jsonl  (sched-sample.py: every thread's schedstat and /proc/stat every 20 ms)
# and prints the stage split of the median and the p99+ requests, then the slow episodes (p99+ requests whose windows
# overlap) with what ran in them: main-thread GC pauses, the store thread's commits and fsyncs, each thread's CPU and
# run-queue wait, the machine's idle, and the requests in flight at the relay.
#   python3 bench/api-trace.py PREFIX [N]
import glob, json, os, struct, sys
from collections import defaultdict

prefix = sys.argv[1]
cf = sys.argv[2] if len(sys.argv) > 2 else None
client_files = sorted(glob.glob(f'{prefix}.client-*.json'), key=os.path.getmtime)
client = json.load(open(f'{prefix}.client-{cf}.json' if cf else client_files[-1]))  # the measured run: the last written (after the warm-up) unless named


def records(path):
    try:
        data = open(path, 'rb').read()
    except FileNotFoundError:
        return []
    return [struct.unpack_from('3d', data, i) for i in range(0, len(data), 24)]


main, worker = records(f'{prefix}.main.f64'), records(f'{prefix}.worker.f64')
ev = defaultdict(dict)  # seq -> code -> t (the first record of that code)
gcs, posts, answers = [], [], []
for code, a, t in main:
    code = int(code)
    if code in (30, 31): gcs.append((t, a, code == 31))
    elif code in (20, 21): posts.append((t, 1 if code == 20 else int(a)))
    elif code == 22: answers.append(t)
    else: ev[int(a)].setdefault(code, t)
commits = []  # (start, end, batch)
fsyncs = []
open_commit = open_sync = None
for code, a, t in worker:
    code = int(code)
    if code == 41: open_commit = t
    elif code == 42 and open_commit is not None: commits.append((open_commit, t, int(a))); open_commit = None
    elif code == 43: open_sync = t
    elif code == 44 and open_sync is not None: fsyncs.append((open_sync, t, int(a))); open_sync = None
sched = []
try:
    for line in open(f'{prefix}.sched.jsonl'):
        sched.append(json.loads(line))
except FileNotFoundError:
    pass

STAGES = [  # (name, from, to): client codes 'due', 'send', 'done'; relay codes as in the patch
    ('wait for a connection', 'due', 'send'), ('to the relay (onRequest)', 'send', 1), ('auth + body parse', 1, 2), ('zod', 2, 3),
    ('compose + lookup answered', 3, 10), ('charge', 10, 11), ('Received etc.', 11, 4), ('DKIM sign', 4, 5),
    ('body write', 5, 12), ('to the put', 12, 6), ('put (store round trip)', 6, 7), ('to the handler\'s end', 7, 8),
    ('(body write to the handler\'s end)', 12, 8), ('reply written (onResponse)', 8, 9), ('back to the client', 9, 'done'),
]
rows = []
for seq, due, send, done in client:
    e = dict(ev.get(int(seq), {}))
    e.update(due=due, send=send, done=done)
    rows.append(e)
rows.sort(key=lambda e: e['done'] - e['due'])
lat = [e['done'] - e['due'] for e in rows]
n = len(rows)
p50, p99 = lat[n // 2], lat[int(n * 0.99)]
missing = sum(1 for e in rows if 9 not in e)
t0, t1 = min(e['due'] for e in rows), max(e['done'] for e in rows)
# the main thread: the lowest tid (the process's id); the store's thread: the busiest other one over the sampled run (the
# threads are all named 'node'); the others: V8's helpers (GC marking, TurboFan) and libuv's pool (the WAL fsync)
main_tid = store_tid = None
if sched:
    main_tid = min(r[0] for r in sched[0][1])
    # over the measured run only (the warm-up's busiest are V8's compiler threads); threads started after libuv's pool
    w = [x for x in sched if t0 <= x[0] <= t1] or sched
    first = {r[0]: r[2] for r in w[0][1]}
    busy = {r[0]: r[2] - first.get(r[0], 0) for r in w[-1][1] if r[0] > main_tid + 10}
    store_tid = max(busy, key=busy.get) if busy else None

print(f'{prefix}: {n} requests over {(t1 - t0) / 1000:.2f} s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1]:.1f} ms; {missing} without relay records')


def stage_means(sel):
    out = []
    for name, a, b in STAGES:
        v = [e[b] - e[a] for e in sel if a in e and b in e]
        out.append(sum(v) / len(v) if v else float('nan'))
    return out


mid = rows[int(n * 0.45):int(n * 0.55)]
tail = rows[int(n * 0.99):]
print(f'\nstage means, ms: the middle tenth (p45-p55, {len(mid)}) | p99+ ({len(tail)})')
for (name, _, _), m, t in zip(STAGES, stage_means(mid), stage_means(tail)):
    print(f'  {name:30s} {m:8.2f} | {t:8.2f}')


def overlap(a0, a1, b0, b1):
    return max(0.0, min(a1, b1) - max(a0, b0))


def sched_delta(a, b):
    """Per thread name: (on-CPU ms, run-queue wait ms) between the samples around [a, b]; machine idle share."""
    if not sched: return {}, float('nan'), 0
    s0 = max((s for s in sched if s[0] <= a), key=lambda s: s[0], default=sched[0])
    s1 = min((s for s in sched if s[0] >= b), key=lambda s: s[0], default=sched[-1])
    r0 = {r[0]: r for r in s0[1]}
    out = defaultdict(lambda: [0.0, 0.0])
    for tid, name, run, wait in s1[1]:
        if tid in r0:
            key = ('main' if tid == main_tid else 'store' if tid == store_tid else 'v8' if tid <= main_tid + 5
                   else 'uv' if tid <= main_tid + 10 else 'others')
            out[key][0] += (run - r0[tid][2]) / 1e6
            out[key][1] += (wait - r0[tid][3]) / 1e6
    if len(s0) < 3 or len(s1) < 3: return out, float('nan'), s1[0] - s0[0]
    c0, c1 = s0[2], s1[2]
    tot = sum(c1) - sum(c0)
    idle = (c1[3] - c0[3]) / tot if tot else float('nan')
    return out, idle, s1[0] - s0[0]


# episodes: p99+ requests whose [due, done] windows overlap
tail_sorted = sorted(tail, key=lambda e: e['due'])
episodes = []
for e in tail_sorted:
    if episodes and e['due'] <= episodes[-1][1]:
        episodes[-1][1] = max(episodes[-1][1], e['done']); episodes[-1][2].append(e)
    else:
        episodes.append([e['due'], e['done'], [e]])
print(f'\n{len(episodes)} episodes of p99+ requests (windows overlapping); per episode: span, requests, worst; main-thread GC in the span;'
      ' longest commit and fsync; threads\' CPU / run-queue wait (ms) over the sampled span; machine idle; max in flight at the relay')
arrivals = sorted((e[1], e.get(9, e['done'])) for e in rows if 1 in e)
for a, b, es in episodes:
    g = [(t, d, major) for t, d, major in gcs if t < b and t + d > a]
    gc_ms = sum(overlap(a, b, t, t + d) for t, d, _ in g)
    cm = max((c for c in commits if c[0] < b and c[1] > a), key=lambda c: c[1] - c[0], default=None)
    fs = max((f for f in fsyncs if f[0] < b and f[1] > a), key=lambda f: f[1] - f[0], default=None)
    th, idle, span = sched_delta(a, b)
    inflight = max((sum(1 for x0, x1 in arrivals if x0 <= t < x1) for t, _ in arrivals if a <= t <= b), default=0)
    worst = max(x['done'] - x['due'] for x in es)
    ths = ', '.join(f'{k} {v[0]:.0f}/{v[1]:.0f}' for k, v in sorted(th.items(), key=lambda kv: -kv[1][0] - kv[1][1]) if v[0] + v[1] >= 1)
    print(f'  t+{a - t0:7.0f} ms, {b - a:5.0f} ms, {len(es):3d} req, worst {worst:5.0f} ms; GC {len(g)} ({gc_ms:.1f} ms'
          f'{", mark-compact " + format(max(d for _, d, m in g if m), ".1f") + " ms" if any(m for *_, m in g) else ""}); '
          f'commit {0 if cm is None else cm[1] - cm[0]:.1f} ms (batch {0 if cm is None else cm[2]}), fsync {0 if fs is None else fs[1] - fs[0]:.1f} ms; '
          f'[{span:.0f} ms sampled] {ths}; idle {idle:.0%}; in flight ≤ {inflight}')

# the whole run: the same quantities, to compare
th, idle, span = sched_delta(t0, t1)
print(f'\nwhole run ({span:.0f} ms sampled): ' + ', '.join(f'{k} {v[0]:.0f}/{v[1]:.0f}' for k, v in sorted(th.items(), key=lambda kv: -kv[1][0]) if v[0] + v[1] >= 1)
      + f'; machine idle {idle:.0%}')
gr = [(t, d, m) for t, d, m in gcs if t0 <= t <= t1]
print(f'main-thread GCs in the run: {sum(1 for *_, m in gr if not m)} scavenges ({sum(d for _, d, m in gr if not m):.0f} ms, longest {max((d for _, d, m in gr if not m), default=0):.1f}),'
      f' {sum(1 for *_, m in gr if m)} mark-compacts ({sum(d for _, d, m in gr if m):.1f} ms, longest {max((d for _, d, m in gr if m), default=0):.1f})')
cr = [c for c in commits if t0 <= c[0] <= t1]
fr = [f for f in fsyncs if t0 <= f[0] <= t1]
if cr:
    cd = sorted(c[1] - c[0] for c in cr)
    fd = sorted(f[1] - f[0] for f in fr) or [0]
    print(f'store thread: {len(cr)} commits (mean batch {sum(c[2] for c in cr) / len(cr):.2f}), commit ms p50 {cd[len(cd) // 2]:.2f} p99 {cd[int(len(cd) * 0.99)]:.2f} max {cd[-1]:.1f};'
          f' {len(fr)} fsyncs, ms p50 {fd[len(fd) // 2]:.2f} p99 {fd[int(len(fd) * 0.99)]:.2f} max {fd[-1]:.1f}')
