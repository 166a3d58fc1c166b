# Claims, jobs leased, jobs given back and destination-slot calls per message of every run of one
# bench/cluster.sh campaign, from pg_stat_statements (calls and rows), on a PostgreSQL instance of
# your own that loads it (see bench/cluster-statements.py: same conditions, same dbid-to-run pairing).
#   python3 bench/claim-waste.py $CLUSTER_PG_URL bench/results/<campaign>.jsonl [SKIP_DBIDS]
# prints one line per run: messages; claims (the expired-lease walk: every claim runs it), leases (claims
# that reached the lease statement) and the recipients they leased; unclaimJobs calls and the recipients
# given back; slot acquires (calls, slots granted), releases, renewals; nextDueAt; statements a message.
import json, subprocess, sys
url, jsonl = sys.argv[1], sys.argv[2]
skip = int(sys.argv[3]) if len(sys.argv) > 3 else 0
q = lambda sql: subprocess.run(['psql', '-qAt', '-F', '\t', url, '-c', sql], capture_output=True, text=True, check=True).stdout.splitlines()
dbids = [int(x) for x in q("SELECT dbid FROM pg_stat_statements WHERE dbid NOT IN (SELECT oid FROM pg_database) GROUP BY dbid HAVING NOT bool_or(query ILIKE 'INSERT%suppression%') ORDER BY 1")][skip:]
runs = [json.loads(l) for l in open(jsonl) if l.strip()]
if len(dbids) > len(runs): dbids = dbids[:len(runs)]  # a later campaign's runs follow (pass SKIP_DBIDS for those)
assert len(dbids) == len(runs), (len(dbids), len(runs))
KINDS = {
    'claims': "query LIKE '%r.lease_until AS due_at FROM recipient r%'",  # the expired-lease walk: every claim runs it first
    'leases': "query LIKE 'WITH picked AS%'",
    'unclaims': "query LIKE 'UPDATE recipient SET state = CASE WHEN attempts >%'",
    'acquires': "query LIKE 'WITH free AS%'",
    'releases': "query LIKE 'UPDATE destination_slot SET owner%(destination, slot) IN%'",  # constants (NULL, 0) are normalized
    'renewals': "query LIKE 'UPDATE destination_slot SET lease_until%'",
    'nextdue': "query LIKE 'SELECT next_attempt_at AS t FROM recipient%'",
}
print('build\tnodes\trep\tmsgs\tclaims\tleases\tleased\tunclaims\tgiven_back\tacquires\tslots_got\treleases\trenewals\tnextdue\tstmts/msg\tleased/msg\tclaims/msg')
for dbid, r in zip(dbids, runs):
    msgs = r['n'] + r['warmup']
    v = dict(kv.split('=') for kv in r['variant'].split())
    out = {}
    for k, cond in KINDS.items():
        c, rows = q(f"SELECT coalesce(sum(calls),0), coalesce(sum(rows),0) FROM pg_stat_statements WHERE dbid = {dbid} AND {cond}")[0].split('\t')
        out[k] = (int(c), int(rows))
    total = int(q(f"SELECT sum(calls) FROM pg_stat_statements WHERE dbid = {dbid}")[0])
    print('\t'.join(str(x) for x in [v.get('build', 'x'), v['nodes'], v['rep'], msgs, out['claims'][0], out['leases'][0], out['leases'][1],
          out['unclaims'][0], out['unclaims'][1], out['acquires'][0], out['acquires'][1], out['releases'][0], out['renewals'][0], out['nextdue'][0],
          round(total / msgs, 2), round(out['leases'][1] / msgs, 3), round(out['claims'][0] / msgs, 3)]))
