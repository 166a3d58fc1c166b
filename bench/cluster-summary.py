#!/usr/bin/env python3
"""cluster-summary.py FILE.jsonl: medians per configuration of a bench/cluster.sh campaign, and the
paired ratio (same repetition) of each configuration's end-to-end rate to the 1-node PostgreSQL run."""
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = defaultdict(dict)  # config -> rep -> row
for r in rows:
    kv = dict(x.split("=") for x in r["variant"].split())
    by[(kv["store"], int(kv["nodes"]))][int(kv["rep"])] = r
ref = by.get(("pg", 1), {})
med = lambda xs: round(statistics.median(xs), 3) if xs else None
print("| configuration | complete | e2e msg/s (median) | accept msg/s | ratio to 1 PG node (paired median) "
      "| nodes+HAProxy CPU ms/msg | PostgreSQL backends CPU ms/msg | whole machine CPU ms/msg | peak PSS MB (all nodes) |")
print("|---|---|---|---|---|---|---|---|---|")
for cfg in sorted(by, key=lambda c: (c[0] != "sqlite", c[1])):
    runs = by[cfg]
    ok = [r for r in runs.values() if r["complete"]]
    ratios = [runs[k]["e2e_msgs_per_s"] / ref[k]["e2e_msgs_per_s"] for k in runs if k in ref and runs[k]["complete"] and ref[k]["complete"]]
    print(f"| {cfg[0]}, {cfg[1]} node{'s' if cfg[1] > 1 else ''} | {len(ok)}/{len(runs)} "
          f"| {med([r['e2e_msgs_per_s'] for r in ok])} | {med([r['accept_msgs_per_s'] for r in ok])} "
          f"| **{med(ratios)}** | {med([r['relay_cpu_s_per_1k'] for r in ok])} | {med([r.get('pg_cpu_ms_per_msg', 0) for r in ok])} "
          f"| {med([r['machine_cpu_s_per_1k'] for r in ok])} "
          f"| {med([r['peak_pss_sum_mb'] for r in ok])} |")
