#!/usr/bin/env python3
"""cluster-pairs.py FILE.jsonl [FILE.jsonl ...]: every candidate build's paired ratios to the first build
(or to BASE=<short hash> when set; same file, configuration and repetition), pair by pair, with the median and the load before each run:
PostgreSQL CPU a message, nodes + HAProxy CPU a message, e2e msg/s, backend wake-ups a message."""
import json, os, statistics, sys
from collections import defaultdict
KEYS = [("pg_cpu_ms_per_msg", "PG CPU/msg"), ("relay_cpu_s_per_1k", "nodes CPU/msg"), ("e2e_msgs_per_s", "e2e msg/s"), ("pg_vcs_per_msg", "PG wake-ups/msg")]
pairs = defaultdict(lambda: defaultdict(list))  # (cfg, build) -> key -> ratios
abs_ = defaultdict(lambda: defaultdict(list))
loads = defaultdict(list)
for f in sys.argv[1:]:
    rows = [json.loads(l) for l in open(f) if l.strip()]
    by, builds = {}, []
    for r in rows:
        kv = dict(x.split("=") for x in r["variant"].split())
        b = kv.get("build", "")
        if b not in builds: builds.append(b)
        by[(f, kv["store"] + " " + kv["nodes"], int(kv["rep"]), b)] = r
    base = next((b for b in builds if os.environ.get("BASE") and b.startswith(os.environ["BASE"])), builds[0])
    for (ff, cfg, rep, b), r in by.items():
        abs_[(cfg, b)]["pg"].append(r.get("pg_cpu_ms_per_msg", 0)); abs_[(cfg, b)]["load"].append(float(r["loadavg_before"].split()[0]))
        if b == base: continue
        a = by.get((ff, cfg, rep, base))
        if not a or not a["complete"] or not r["complete"]: continue
        for k, _ in KEYS:
            if a.get(k): pairs[(cfg, b)][k].append(r[k] / a[k])
        loads[(cfg, b)].append(a["loadavg_before"].split()[0] + "/" + r["loadavg_before"].split()[0])
for (cfg, b), d in sorted(pairs.items()):
    print(f"## {cfg}, build {b} vs first build ({len(d['pg_cpu_ms_per_msg'])} pairs; load before base/cand: {' '.join(loads[(cfg, b)])})")
    for k, name in KEYS:
        xs = d[k]
        if xs: print(f"  {name:16s} median {statistics.median(xs):.3f}  pairs " + " ".join(f"{x:.2f}" for x in xs))
for (cfg, b), d in sorted(abs_.items()):
    print(f"# {cfg} build {b}: PostgreSQL CPU ms/msg median {statistics.median(d['pg']):.3f} (runs: {' '.join(f'{x:.2f}' for x in d['pg'])}), load {statistics.median(d['load']):.2f}")
