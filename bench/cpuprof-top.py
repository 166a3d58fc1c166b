#!/usr/bin/env python3
"""Self time by function of a V8 .cpuprofile (node --cpu-prof): top N, busy share (idle and program excluded).
usage: cpuprof-top.py FILE.cpuprofile [N=40] [--since-ms MS]  (--since-ms: only samples after MS from the start)"""
import json, sys, collections
args = [a for a in sys.argv[1:] if not a.startswith('--')]
since = 0.0
if '--since-ms' in sys.argv: since = float(sys.argv[sys.argv.index('--since-ms') + 1]); args = [a for a in args if a != str(int(since)) and a != sys.argv[sys.argv.index('--since-ms') + 1]]
p = json.load(open(args[0])); n = int(args[1]) if len(args) > 1 else 40
nodes = {x['id']: x for x in p['nodes']}
t = 0.0; selfms = collections.Counter()
for sid, dt in zip(p['samples'], p['timeDeltas']):
    t += dt / 1000.0
    if t < since: continue
    cf = nodes[sid]['callFrame']
    url = cf['url'].split('/')[-1] if cf['url'] else ''
    key = f"{cf['functionName'] or '(anon)'} {url}:{cf['lineNumber']+1}" if url else (cf['functionName'] or '(anon)')
    selfms[key] += dt / 1000.0
total = sum(selfms.values()); idle = selfms.get('(idle)', 0) + selfms.get('(program)', 0)
busy = total - idle
print(f"total {total:.0f} ms, idle+program {idle:.0f} ms, busy {busy:.0f} ms")
for k, v in selfms.most_common(n):
    if k in ('(idle)', '(program)'): continue
    print(f"{v:8.1f} ms {100*v/busy:5.1f} %  {k}")
