# per run (dbid order = run order): top-level statements a message, BEGIN a message, walks, leases, nextDueAt a message
# python3 pg22-stmts.py URL FILE.jsonl OUT.tsv  (reset pgss before the campaign)
import json, subprocess, sys
url, jsonl, out = sys.argv[1:4]
q = lambda sql: subprocess.run(['psql','-qAt','-F','\t',url,'-c',sql],capture_output=True,text=True,check=True).stdout.splitlines()
dbids=[int(x) for x in q("SELECT dbid FROM pg_stat_statements WHERE dbid NOT IN (SELECT oid FROM pg_database) GROUP BY dbid ORDER BY 1")]
runs=[json.loads(l) for l in open(jsonl) if l.strip()]
n=min(len(dbids),len(runs)); dbids,runs=dbids[:n],runs[:n]
f=open(out,'w')
print('variant\ttop/msg\tBEGIN/msg\twalks/msg\tleases/msg\tnextdue/msg\tsuppr/msg')
for d,r in zip(dbids,runs):
    m=r['n']+r['warmup']
    x=q(f"""SELECT sum(calls) FILTER (WHERE toplevel), sum(calls) FILTER (WHERE toplevel AND query='BEGIN'),
      sum(calls) FILTER (WHERE toplevel AND query LIKE '%lease_until AS due_at%'), sum(calls) FILTER (WHERE toplevel AND query LIKE 'WITH picked AS%'),
      sum(calls) FILTER (WHERE toplevel AND query LIKE 'SELECT next_attempt_at AS t FROM recipient%'),
      sum(calls) FILTER (WHERE toplevel AND query LIKE '%FROM suppression%WHERE (account, address) IN%')
      FROM pg_stat_statements WHERE dbid={d}""")[0].split('\t')
    v=[float(a or 0)/m for a in x]
    print(r['variant']+'\t'+'\t'.join(f'{a:.3f}' for a in v))
    f.write(f"{r['variant']}\t{v[0]:.3f}\n")
