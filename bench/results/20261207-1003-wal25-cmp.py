import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
sel=[int(x) for x in sys.argv[2].split(',')]
rows=[rows[i] for i in sel]
names=[]
for d in rows:
    for r in d['table']:
        if r['btree'] not in names: names.append(r['btree'])
print('%-36s'%'b-tree', ' | '.join('%s c%d/msg  /commit'%(d['rev'][-4:],d['clients']) for d in rows))
for nm in names:
    vals=[]
    for d in rows:
        t={r['btree']:r for r in d['table']}.get(nm,{})
        f=t.get('frames_per_msg',0)
        vals.append('%7.3f %7.2f'%(f, f*d['n']/d['commits']))
    print('%-36s'%nm,' | '.join(vals))
print('%-36s'%'TOTAL',' | '.join('%7.3f %7.2f'%(d['frames_per_msg'],d['frames_per_commit']) for d in rows))
