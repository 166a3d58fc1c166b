#!/usr/bin/env python3
# pgapi25: every 20 ms, the PostgreSQL server's processes as sched-sample.py reads the relay's threads: CLOCK_MONOTONIC ms and
# [pid, role, on-CPU ns, run-queue wait ns] a process (role: 'mine' for a backend of a database starting with PREFIX (with
# PG_SCHED_BY_DB=1 the database's name instead), else the process title's first word after 'postgres:', e.g. 'walwriter',
# or 'other' for other databases' backends), one JSON line.
#   python3 bench/pg-sched-sample.py PREFIX OUT &   (kill it after the run; bench/pg-trace.py reads it beside api-trace.py's files)
import json, os, sys, time
prefix, out = sys.argv[1], sys.argv[2]
by_db = os.environ.get('PG_SCHED_BY_DB') == '1'  # label a backend by its database's name instead of 'mine'
roles = {}
def role(p):
    cmd = open(f'/proc/{p}/cmdline', 'rb').read().split(b'\0')[0].decode(errors='replace')
    if not cmd.startswith('postgres: '): return None
    w = cmd.split()[1:]
    if len(w) > 1 and w[0].endswith(':'): w = w[1:]  # the cluster's name ('15/main:')
    if not w: return None
    if w[0] in ('walwriter', 'checkpointer', 'background', 'autovacuum', 'logical', 'stats'): return w[0]
    if len(w) > 1 and w[1].startswith(prefix): return w[1] if by_db else 'mine'
    return 'other'
with open(out, 'w') as f:
    while True:
        t = time.monotonic() * 1000
        rows = []
        for p in os.listdir('/proc'):
            if not p.isdigit(): continue
            try:
                if p not in roles: roles[p] = role(p)
                r = roles[p]
                if r is None: continue
                run, wait, _ = open(f'/proc/{p}/schedstat').read().split()
                rows.append([int(p), r, int(run), int(wait)])
            except (OSError, ValueError, IndexError):
                pass
        f.write(json.dumps([round(t, 3), rows]) + '\n'); f.flush()
        time.sleep(0.02)
