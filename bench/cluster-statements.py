# Statements per message of every run of one bench/cluster.sh campaign, from pg_stat_statements:
# run the campaign against a PostgreSQL instance of your own that loads it
# (shared_preload_libraries = 'pg_stat_statements', pg_stat_statements.track = all; the shared
# server does not), reset the statistics before it, and do not reset during it: every run has its
# own database, dropped afterwards, so its statements stay apart under that database's oid, and
# oids follow the runs' order. Databases still present, and dropped ones that held suppressions
# (bench/dashboard-pages.ts), are left out.
#   CLUSTER_PG_URL=postgres://postgres@127.0.0.1:5439/postgres bench/cluster.sh 600 2
#   python3 bench/cluster-statements.py $CLUSTER_PG_URL bench/results/<campaign>.jsonl bench/results/<campaign>-pg-statements
# writes <prefix>-<build>-n<nodes>-rep<r>.tsv per run (calls a message, mean execution ms, execution
# ms a message, calls, the statement; most execution time first) and prints one line per run.
import json, subprocess, sys
url, jsonl, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
skip = int(sys.argv[4]) if len(sys.argv) > 4 else 0   # dbids to skip at the start (left from earlier runs)
q = lambda sql: subprocess.run(['psql', '-qAt', '-F', '\t', url, '-c', sql], capture_output=True, text=True, check=True).stdout.splitlines()
dbids = [int(x) for x in q("SELECT dbid FROM pg_stat_statements WHERE dbid NOT IN (SELECT oid FROM pg_database) GROUP BY dbid HAVING NOT bool_or(query ILIKE 'INSERT%suppression%') ORDER BY 1")][skip:]
runs = [json.loads(l) for l in open(jsonl) if l.strip()]
assert len(dbids) == len(runs), (len(dbids), len(runs))
for dbid, r in zip(dbids, runs):
    msgs = r['n'] + r['warmup']
    rows = q(f"SELECT round(calls::numeric/{msgs},3), round(mean_exec_time::numeric,4), round((total_exec_time/{msgs})::numeric,4), calls, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements WHERE dbid = {dbid} ORDER BY total_exec_time DESC")
    v = dict(kv.split('=') for kv in r['variant'].split())
    name = f"{prefix}-{v.get('build','x')}-n{v['nodes']}-rep{v['rep']}.tsv"
    open(name, 'w').write('\n'.join(rows) + '\n')
    calls = sum(float(x.split('\t')[0]) for x in rows); ex = sum(float(x.split('\t')[2]) for x in rows)
    up = [x for x in rows if 'INSERT INTO breaker_counter' in x]
    walks = [x for x in rows if 'claim' in x.lower()]
    print(f"{name}\tstatements/msg {calls:.1f}\texec ms/msg {ex:.3f}\tbreaker upsert mean ms {';'.join(x.split(chr(9))[1] for x in up)}")
