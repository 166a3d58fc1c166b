import json,statistics as st
def load(f): return [json.loads(l) for l in open(f)]
F='bench/results/20261207-0950-wal25-frames.jsonl'; V='bench/results/20261207-0950-wal25-frames-v3.jsonl'; C1='bench/results/20261207-0950-wal25-frames-c1.jsonl'
a=load(F); v=load(V); c1=load(C1)
i20=[a[0],a[1],v[0]]; iii=[a[2],a[3],v[2]]; i1=[c1[0],v[1]]
def med(rows,nm,key='frames_per_msg',percommit=False):
    xs=[]
    for d in rows:
        t={r['btree']:r for r in d['table']}.get(nm,{})
        f=t.get(key,0)
        xs.append(f*d['n']/d['commits'] if percommit else f)
    return st.median(xs)
names=[r['btree'] for r in i20[0]['table']]
for nm in sorted(names,key=lambda n:-med(i20,n)):
    print('| %s | %.2f | %.2f | %.2f | %.1f |'%(nm, med(i20,nm), med(i20,nm,percommit=True), med(iii,nm), med(i1,nm)))
for lab,rows in (('i20',i20),('iii',iii),('i1',i1)):
    print(lab, {k: st.median([d[k] for d in rows]) for k in ('frames_per_msg','frames_per_commit','msgs_per_commit','distinct_pages_per_msg','ckpt_pages_per_msg','pwrite_per_msg_est','wal_bytes_per_msg')}, [d['frames_per_msg'] for d in rows])
