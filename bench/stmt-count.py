#!/usr/bin/env python3
"""stmt-count.py BEFORE_DIR AFTER_DIR N REV RCPTS: per-message statements and cloned values (bench/stmt-count.cjs snapshots)."""
import json, os, sys
before, after, n, rev, rcpts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
def load(d):
    s, c = {}, {}
    for f in os.listdir(d):
        j = json.load(open(os.path.join(d, f)))
        for k, v in j["stmts"]: s[k] = [a + b for a, b in zip(s.get(k, [0, 0]), v)]
        for k, v in j["clones"]: c[k] = [a + b for a, b in zip(c.get(k, [0, 0]), v)]
    return s, c
(s0, c0), (s1, c1) = load(before), load(after)
stmts = {k: [v[0] - s0.get(k, [0, 0])[0], v[1] - s0.get(k, [0, 0])[1]] for k, v in s1.items()}
stmts = {k: v for k, v in stmts.items() if v[0] > 0}
clones = {k: [v[0] - c0.get(k, [0, 0])[0], v[1] - c0.get(k, [0, 0])[1]] for k, v in c1.items()}
clones = {k: v for k, v in clones.items() if v[0] > 0}
tot_ns = sum(v[1] for v in stmts.values())
rows = sorted(stmts.items(), key=lambda kv: -kv[1][0])
out = {"rev": rev, "n": n, "rcpts": rcpts,
       "stmts_per_msg": round(sum(v[0] for v in stmts.values()) / n, 2),
       "stmt_us_per_msg": round(tot_ns / n / 1000, 1),
       "clone_values_per_msg": round(sum(v[1] for k, v in clones.items() if not k.startswith("res-sent")) / n, 1),
       "postmessages_per_msg": round(sum(v[0] for k, v in clones.items() if k.startswith("req")) / n, 2),
       "stmts": [{"per_msg": round(v[0] / n, 3), "us_per_msg": round(v[1] / n / 1000, 1), "sql": " ".join(k.split())[:160]} for k, v in rows],
       "clones": [{"key": k, "per_msg": round(v[0] / n, 3), "values_per_msg": round(v[1] / n, 1)} for k, v in sorted(clones.items())]}
print(json.dumps(out, indent=1))
