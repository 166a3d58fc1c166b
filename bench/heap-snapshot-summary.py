#!/usr/bin/env python3
"""heap-snapshot-summary.py FILE [N]: a V8 heap snapshot (.heapsnapshot) by node type and by the N largest type:name
keys, self sizes in KB (bench/README.md, twenty-fourth session, helper mem24; bench/worker-cost.mjs writes one)."""
import json,sys,collections
d=json.load(open(sys.argv[1]))
m=d['snapshot']['meta']; nf=m['node_fields']; types=m['node_types'][0]; N=len(nf)
nodes=d['nodes']; strings=d['strings']
it=nf.index('type'); iname=nf.index('name'); isz=nf.index('self_size')
bytype=collections.Counter(); byname=collections.Counter(); cnt=collections.Counter()
tot=0
for i in range(0,len(nodes),N):
    t=types[nodes[i+it]]; s=nodes[i+isz]; n=strings[nodes[i+iname]]
    tot+=s; bytype[t]+=s
    key=t+':'+(n[:60] if t in ('object','code','hidden','array','closure','native','object shape') else '')
    byname[key]+=s; cnt[key]+=1
print('total self',tot//1024,'KB')
for k,v in bytype.most_common(): print('%8d KB %s'%(v//1024,k))
print('---')
for k,v in byname.most_common(int(sys.argv[2]) if len(sys.argv)>2 else 40): print('%8d KB %6d %s'%(v//1024,cnt[k],k))
