#!/usr/bin/env python3
"""pg-statements-per-build.py STATS_DIR [MESSAGES=1700]: per build, medians over runs of the top-level statements'
execution time a message (ms, wall, summed) and of the statements whose text matches each PATTERN (env PATTERNS,
'|'-separated substrings; default the breaker shard upsert, the events statement that appends stat_delta, the
recipients+accepted put): ms a message and rows a call."""
import glob, os, re, statistics, sys
from collections import defaultdict
d = sys.argv[1]; msgs = int(sys.argv[2]) if len(sys.argv) > 2 else 1700
pats = os.environ.get("PATTERNS", "INSERT INTO breaker_counter_shard|WITH ins AS ( INSERT INTO event|INSERT INTO stat_delta").split("|")
tot = defaultdict(list); per = defaultdict(lambda: defaultdict(list))
for f in sorted(glob.glob(os.path.join(d, "*.statements.tsv"))):
    b = re.search(r"build=([0-9a-f]+)", f).group(1)
    rows = [l.split("\t") for l in open(f).read().splitlines() if l.strip()]
    tot[b].append(sum(float(r[2]) for r in rows if r[10] == "t") / msgs)
    for p in pats:
        m = [r for r in rows if p in r[11]]
        per[b][p].append(sum(float(r[2]) for r in m) / msgs)
med = statistics.median
for b in tot:
    print(f"build {b}: top-level execution {med(tot[b]):.3f} ms a message ({len(tot[b])} runs)")
    for p in pats: print(f"  {p[:40]:40s} {med(per[b][p]):.4f} ms a message")
