#!/usr/bin/env python3
"""pg-wal-per-build.py STATS_DIR [MESSAGES=1700] [RELATIONS]: WAL bytes and records a message per build
(medians over runs, from each run's pg_stat_wal delta, *.wal.tsv), and, when the runs have
*.wal-by-relation.tsv (CLUSTER_WALDUMP), the named relations' bytes/records a message (comma list;
default breaker_counter_shard,stat_delta,stat_delta_bucket,stat_delta_pkey)."""
import glob, os, re, statistics, sys
from collections import defaultdict
d = sys.argv[1]; msgs = int(sys.argv[2]) if len(sys.argv) > 2 else 1700
rels = (sys.argv[3] if len(sys.argv) > 3 else "breaker_counter_shard,stat_delta,stat_delta_bucket,stat_delta_pkey").split(",")
wal = defaultdict(lambda: ([], []))
byrel = defaultdict(lambda: defaultdict(lambda: ([], [])))
tot = defaultdict(lambda: ([], []))
for f in sorted(glob.glob(os.path.join(d, "*.wal.tsv"))):
    b = re.search(r"build=([0-9a-f]+)", f).group(1)
    lines = [l for l in open(f).read().splitlines() if l.strip()]
    x = lines[-1].split("\t")
    if len(x) < 3 or not x[0]: continue
    wal[b][0].append(int(x[2]) / msgs); wal[b][1].append(int(x[0]) / msgs)
for f in sorted(glob.glob(os.path.join(d, "*.wal-by-relation.tsv"))):
    b = re.search(r"build=([0-9a-f]+)", f).group(1)
    lines = open(f).read().splitlines()
    m = re.search(r"= (\d+) a message, ([\d.]+) records", lines[0])
    if m: tot[b][0].append(int(m.group(1))); tot[b][1].append(float(m.group(2)))
    seen = {}
    for l in lines[2:]:
        p = l.split("\t")
        if len(p) >= 3 and p[1].replace(".", "", 1).isdigit(): seen[p[0]] = (float(p[1]), float(p[2]))
    for r in rels:
        v = seen.get(r, (0.0, 0.0)); byrel[b][r][0].append(v[0]); byrel[b][r][1].append(v[1])
med = lambda v: statistics.median(v) if v else float("nan")
for b, (by, rec) in wal.items():
    print(f"build {b}: pg_stat_wal {med(by):.0f} B, {med(rec):.1f} records a message ({len(by)} runs; range {min(by):.0f}-{max(by):.0f} B, {min(rec):.1f}-{max(rec):.1f})")
    if b in tot: print(f"  waldump: {med(tot[b][0]):.0f} B, {med(tot[b][1]):.1f} records a message ({len(tot[b][0])} runs)")
    for r in rels:
        if b in byrel: print(f"  {r}: {med(byrel[b][r][0]):.0f} B, {med(byrel[b][r][1]):.2f} records")
