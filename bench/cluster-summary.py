#!/usr/bin/env python3
"""cluster-summary.py FILE.jsonl: medians per configuration of a bench/cluster.sh campaign, and the
paired ratio (same repetition, same build) of each configuration's end-to-end rate to the 1-node
PostgreSQL run. With several builds (BENCH_REFS), a second table gives each build's paired ratios
to the first build's run of the same configuration and repetition (rate and CPU per message)."""
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = defaultdict(dict)  # (build, store, nodes) -> rep -> row
builds = []
for r in rows:
    kv = dict(x.split("=") for x in r["variant"].split())
    b = kv.get("build", "")
    if b not in builds: builds.append(b)
    by[(b, kv["store"], int(kv["nodes"]))][int(kv["rep"])] = r
med = lambda xs: round(statistics.median(xs), 3) if xs else None
ok = lambda r: r is not None and r["complete"]
print("| build | configuration | complete | e2e msg/s (median) | accept msg/s | ratio to 1 PG node (paired median) "
      "| nodes+HAProxy CPU ms/msg | PostgreSQL backends CPU ms/msg | whole machine CPU ms/msg | peak PSS MB (all nodes) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for cfg in sorted(by, key=lambda c: (builds.index(c[0]), c[1] != "sqlite", c[2])):
    runs, ref = by[cfg], by.get((cfg[0], "pg", 1), {})
    done = [r for r in runs.values() if r["complete"]]
    ratios = [runs[k]["e2e_msgs_per_s"] / ref[k]["e2e_msgs_per_s"] for k in runs if ok(runs[k]) and ok(ref.get(k))]
    print(f"| {cfg[0] or '-'} | {cfg[1]}, {cfg[2]} node{'s' if cfg[2] > 1 else ''} | {len(done)}/{len(runs)} "
          f"| {med([r['e2e_msgs_per_s'] for r in done])} | {med([r['accept_msgs_per_s'] for r in done])} "
          f"| **{med(ratios)}** | {med([r['relay_cpu_s_per_1k'] for r in done])} | {med([r.get('pg_cpu_ms_per_msg', 0) for r in done])} "
          f"| {med([r['machine_cpu_s_per_1k'] for r in done])} "
          f"| {med([r['peak_pss_sum_mb'] for r in done])} |")
if len(builds) > 1:
    base = builds[0]
    print(f"\nPaired ratios to build {base} (same configuration and repetition; median, min–max):\n")
    print("| build | configuration | pairs | e2e msg/s | nodes+HAProxy CPU/msg | PostgreSQL CPU/msg | machine CPU/msg |")
    print("|---|---|---|---|---|---|---|")
    span = lambda xs: f"**{med(xs)}** ({min(xs):.2f}–{max(xs):.2f})" if xs else "-"
    for cfg in sorted(by, key=lambda c: (builds.index(c[0]), c[1] != "sqlite", c[2])):
        if cfg[0] == base: continue
        runs, ref = by[cfg], by.get((base, cfg[1], cfg[2]), {})
        pairs = [(runs[k], ref[k]) for k in runs if ok(runs[k]) and ok(ref.get(k))]
        ratio = lambda f: [a[f] / b[f] for a, b in pairs if b.get(f)]
        print(f"| {cfg[0]} | {cfg[1]}, {cfg[2]} node{'s' if cfg[2] > 1 else ''} | {len(pairs)} | {span(ratio('e2e_msgs_per_s'))} "
              f"| {span(ratio('relay_cpu_s_per_1k'))} | {span(ratio('pg_cpu_ms_per_msg'))} | {span(ratio('machine_cpu_s_per_1k'))} |")
