import sys,re
def parse(f):
    maps=[];cur=None
    for line in open(f):
        m=re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$',line)
        if m:
            cur={'range':m.group(1)+'-'+m.group(2),'size':(int(m.group(2),16)-int(m.group(1),16))//1024,'perm':m.group(3),'name':m.group(4),'rss':0,'anon':0};maps.append(cur);continue
        m=re.match(r'^(Rss|Anonymous):\s+(\d+)',line)
        if m and cur: cur['anon' if m.group(1)=='Anonymous' else 'rss']=int(m.group(2))
    return {x['range']:x for x in maps}
a=parse(sys.argv[1]);b=parse(sys.argv[2])
rows=[]
for k,v in b.items():
    d=v['anon']-(a[k]['anon'] if k in a else 0)
    if abs(d)>=64: rows.append((d,v['size'],v['perm'],v['name'],k, k in a))
for k,v in a.items():
    if k not in b and v['anon']>=64: rows.append((-v['anon'],v['size'],v['perm'],v['name'],k,'gone'))
rows.sort(key=lambda r:-abs(r[0]))
for r in rows: print('%7d KB  size %8d %s %-30s %s %s'%r)
print('total',sum(r[0] for r in rows))
