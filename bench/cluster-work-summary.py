#!/usr/bin/env python3
"""cluster-work-summary.py FILE.jsonl [...]: bench/cluster-work.py's phases, 3 nodes against 1, per phase.
Runs are paired by their tag's repetition (tag "r<k>"): each 3-node run with the 1-node run of the same k
(ratios per pair, then their median); absolute medians per configuration alongside."""
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
by = defaultdict(dict)  # (valgrind, phase) -> nodes -> tag -> row
for r in rows: by[(r["valgrind"], r["phase"])].setdefault(r["nodes"], {})[r["tag"]] = r
med = lambda xs: statistics.median(xs) if xs else float("nan")
F = [("nodes_cpu_ms_per_msg", "nodes CPU ms/msg"), ("nodes_haproxy_cpu_ms_per_msg", "nodes+HAProxy ms/msg"),
     ("nodes_user_ms_per_msg", "nodes user ms/msg"), ("nodes_sys_ms_per_msg", "nodes system ms/msg"), ("sched_run_ms_per_msg", "nodes on-CPU (schedstat) ms/msg"), ("ir_per_msg", "Ir/msg (M)"), ("vcs_per_msg", "vol. switches/msg"), ("ivcs_per_msg", "invol. switches/msg"),
     ("runq_wait_ms_per_msg", "run-queue wait ms/msg"), ("migr_per_msg", "CPU migrations/msg"), ("statements_per_msg", "statements/msg"), ("begin_per_msg", "BEGIN/msg"),
     ("claims_per_msg", "claims/msg"), ("leases_per_msg", "leases/msg"), ("nextdue_per_msg", "nextDueAt/msg"), ("pg_cpu_ms_per_msg", "PostgreSQL ms/msg"), ("e2e_rate", "e2e msg/s")]
for key in sorted(by, key=lambda k: (k[0], [r["ts"] for n in by[k].values() for r in n.values()][0])):
    g = by[key]
    one, three = g.get(1, {}), g.get(3, {})
    pairs = [(three[t], one[t]) for t in three if t in one]
    loads = sorted(r["loadavg"] for n in g.values() for r in n.values())
    print(f"\n### {'callgrind' if key[0] else 'native'} {key[1]}  (pairs {len(pairs)}; load {loads[0]}–{loads[-1]})\n")
    if key[1].startswith("idle"):
        for n in (1, 3):
            rs = list(g.get(n, {}).values())
            if rs: print(f"- {n} node(s): nodes CPU ms/s {med([r['nodes_cpu_ms_per_s'] for r in rs]):.2f}, vol. switches/s "
                         f"{med([r['vcs_per_s'] for r in rs]):.1f}" + (f", Ir/s {med([r['ir_per_s'] for r in rs]) / 1e6:.1f} M" if rs[0].get('ir_per_s') else ""))
        continue
    print("| | 1 node (median) | 3 nodes (median) | 3 ÷ 1 (paired median; each pair) |")
    print("|---|---|---|---|")
    for f, name in F:
        a = [r[f] for r in one.values() if r.get(f) is not None]; b = [r[f] for r in three.values() if r.get(f) is not None]
        if not a and not b: continue
        sc = 1e6 if f == "ir_per_msg" else 1
        rat = [x[f] / y[f] for x, y in pairs if x.get(f) and y.get(f)]
        print(f"| {name} | {med(a) / sc:.3f} | {med(b) / sc:.3f} | **{med(rat):.3f}** ({' '.join(f'{x:.2f}' for x in rat)}) |")
