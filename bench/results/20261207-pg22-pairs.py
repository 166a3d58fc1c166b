# paired ratios of fields per configuration: python3 pg22-pairs.py FILE.jsonl [stmts.tsv]
import json, statistics, sys
from collections import defaultdict
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
stm={}
if len(sys.argv)>2:
    for l in open(sys.argv[2]):
        k,v=l.rstrip('\n').split('\t'); stm[k]=float(v)
by=defaultdict(dict); builds=[]
for r in rows:
    kv=dict(x.split('=') for x in r['variant'].split()); b=kv['build']
    if b not in builds: builds.append(b)
    if r['variant'] in stm: r['stmts']=stm[r['variant']]
    by[(b,int(kv['nodes']))][int(kv['rep'])]=r
fields=['pg_cpu_ms_per_msg','relay_cpu_s_per_1k','e2e_msgs_per_s','pg_vcs_per_msg','stmts']
base=builds[0]
for n in (1,3):
  for b in builds:
    rs=by[(b,n)]
    print(f"n={n} {b}: " + '  '.join(f"{f}={statistics.median([r[f] for r in rs.values() if f in r]):.3f}" for f in fields if any(f in r for r in rs.values())))
  for b in builds[1:]:
    out=[]
    for f in fields:
      xs=[by[(b,n)][k][f]/by[(base,n)][k][f] for k in by[(b,n)] if k in by[(base,n)] and f in by[(b,n)][k] and by[(base,n)][k].get(f)]
      if xs: out.append(f"{f} {statistics.median(xs):.3f} ({' '.join(f'{x:.2f}' for x in xs)})")
    print(f"  n={n} {b}/{base}: " + ' | '.join(out))
# 3/1 ratios per build
for b in builds:
  for f in ('pg_cpu_ms_per_msg','relay_cpu_s_per_1k','pg_vcs_per_msg'):
    xs=[by[(b,3)][k][f]/by[(b,1)][k][f] for k in by[(b,3)] if k in by[(b,1)]]
    print(f"3/1 {b} {f}: {statistics.median(xs):.3f} ({' '.join(f'{x:.2f}' for x in xs)})")
