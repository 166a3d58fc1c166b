#!/usr/bin/env python3
"""WAL a message by relation and record type over one run's WAL range (pg26).
   pg-wal-by-relation.py PGDATA START_LSN END_LSN DB_URL MESSAGES
pg_waldump's records in [START, END), each record's total length attributed to the first relation
it names (blkref #0); relations named by pg_class of DB (filenode → relname); FPI bytes apart."""
import collections, re, subprocess, sys
pgdata, start, end, dburl, msgs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
names = {}
out = subprocess.run(["psql", dburl, "-Atc",
                      "SELECT pg_relation_filenode(oid), relname FROM pg_class WHERE pg_relation_filenode(oid) IS NOT NULL"],
                     capture_output=True, text=True).stdout
for line in out.splitlines():
    fn, _, name = line.partition("|"); names[fn] = name
dump = subprocess.run(["/usr/lib/postgresql/15/bin/pg_waldump", "-p", pgdata + "/pg_wal", "-s", start, "-e", end],
                      capture_output=True, text=True).stdout
by_rel = collections.Counter(); n_rel = collections.Counter(); fpi_rel = collections.Counter(); by_kind = collections.Counter(); n_kind = collections.Counter()
rx = re.compile(r"rmgr: (\w+)\s+len \(rec/tot\):\s+(\d+)/\s*(\d+).*?desc: (\w+)")
for line in dump.splitlines():
    m = rx.search(line)
    if not m: continue
    rmgr, tot, kind = m.group(1), int(m.group(3)), m.group(4)
    r = re.search(r"blkref #0: rel \d+/\d+/(\d+)", line)
    rel = names.get(r.group(1), "filenode " + r.group(1)) if r else "(" + rmgr + ")"
    by_rel[rel] += tot; n_rel[rel] += 1
    if "FPW" in line or "FPI" in line: fpi_rel[rel] += 1
    by_kind[rmgr + "/" + kind] += tot; n_kind[rmgr + "/" + kind] += 1
total = sum(by_rel.values())
print(f"# {msgs} messages, {total} WAL bytes = {total / msgs:.0f} a message, {sum(n_rel.values()) / msgs:.1f} records a message")
print("relation\tbytes/msg\trecords/msg\tFPI records")
for rel, b in by_rel.most_common(40): print(f"{rel}\t{b / msgs:.0f}\t{n_rel[rel] / msgs:.2f}\t{fpi_rel[rel]}")
print("\nrmgr/record\tbytes/msg\trecords/msg")
for k, b in by_kind.most_common(25): print(f"{k}\t{b / msgs:.0f}\t{n_kind[k] / msgs:.2f}")
