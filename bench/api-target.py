#!/usr/bin/env python3
"""Summary of bench/api-target.sh's JSON lines: per store, warm-up and loop, the medians of the runs (msg/s, p50,
p99, p99.9, relay and main-thread CPU ms/msg, the busiest other thread and the rest) and whether issue 14's API
target (>= 1,000 msg/s with p99 < 50 ms at 50 clients; open loop: achieved >= 990 of the 1,000 asked) is met.
  python3 bench/api-target.py FILE.jsonl"""
import json, statistics, sys
from collections import defaultdict

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = defaultdict(list)
for r in rows:
    groups[(r['store'], r.get('warmup', 100), 'open' if r.get('open') else 'closed', r.get('client', 'undici'))].append(r)
med = lambda rs, k: statistics.median([r[k] for r in rs if r.get(k) is not None]) if any(r.get(k) is not None for r in rs) else float('nan')
print('| store | warm-up msgs | loop | client (its CPU ms/msg) | runs | msg/s | p50 ms | p99 ms | p99.9 ms | relay CPU ms/msg | main thread | busiest other thread | the rest | load after | target |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for (store, warm, loop, client), rs in sorted(groups.items(), key=lambda kv: (kv[0][0] != 'sqlite', kv[0][1], kv[0][2], kv[0][3])):
    rate, p99 = med(rs, 'rate'), med(rs, 'p99')
    ok = (rate >= 990 if loop == 'open' else rate >= 1000) and p99 < 50
    how = 'open, 1,000 msg/s, <= 50 in flight' if loop == 'open' else 'closed, 50 clients'
    loads = '–'.join(sorted({r['loadavg_after'].split()[0] for r in rs}, key=float)[::max(1, len(rs) - 1)])
    print(f"| {store} | {warm} | {how} | {client} ({med(rs, 'clientCpuMsPerMsg'):.2f}) | {len(rs)} | {rate:.0f} | {med(rs, 'p50'):.1f} | {p99:.1f} | {med(rs, 'p999'):.1f} | "
          f"{med(rs, 'cpuMsPerMsg'):.2f} | {med(rs, 'mainCpuMsPerMsg'):.2f} | {med(rs, 'busiestOtherMsPerMsg'):.2f} | {med(rs, 'restMsPerMsg'):.2f} | {loads} | {'met' if ok else 'not met'} |")
