import json,sys,glob,collections,statistics as st
d=sys.argv[1]
def pct(a,p):
    a=sorted(a); return a[min(len(a)-1,int(p*len(a)))] if a else float('nan')
for f in sorted(glob.glob(d+'/t0-*.jsonl')):
    pid=f.split('-')[-1].split('.')[0]
    R=[];G=[];L=[]
    for line in open(f):
        r=json.loads(line)
        if r['k']=='req': R.append(r)
        elif r['k']=='gc': G.append(r)
        elif r['k']=='late': L.append(r)
    W=[]
    for w in glob.glob(d+'/t*-%s.jsonl'%pid):
        if '/t0-' in w: continue
        for line in open(w): W.append(json.loads(line))
    R.sort(key=lambda r:r['q'])
    R=R[100:]  # measured window
    t0=R[0]['q']; t1=max(r['f'] for r in R)
    bysock=collections.defaultdict(list)
    for r in R: bysock[r['s']].append(r)
    rows=[]
    for s,rs in bysock.items():
        for i in range(1,len(rs)):
            r=rs[i]; p=rs[i-1]
            sub=r.get('sub',[[r['q'],r['q']]])[0]; sign=r.get('sign',[[0,0]])[0]; put=r.get('put',[[0,0]])[0]
            rows.append(dict(cycle=r['f']-p['f'],pre=r['q']-p['f'],hand=r['f']-r['q'],before_sub=sub[0]-r['q'],
              sub=sub[1]-sub[0],sign=sign[1]-sign[0],put=put[1]-put[0],after=r['f']-sub[1],
              pre_sign=sign[0]-sub[0] if sign[0] else 0, q=r['q'],f=r['f']))
    n=len(rows)
    print(f"== pid {pid}: {n} requests, {n/((t1-t0)/1000):.0f}/s, gc {len([g for g in G if t0<=g['a']<=t1])} (scav {len([g for g in G if t0<=g['a']<=t1 and g['t']==1])}), gc ms {sum(g['d'] for g in G if t0<=g['a']<=t1):.0f}, max {max([g['d'] for g in G if t0<=g['a']<=t1] or [0]):.1f}")
    keys=['cycle','pre','hand','before_sub','pre_sign','sign','put','after']
    print('%-11s'%'', ' '.join('%9s'%k for k in keys))
    for p in (0.5,0.9,0.99):
        print('%-11s'%('p%g'%(p*100)), ' '.join('%9.2f'%pct([r[k] for r in rows],p) for k in keys))
    slow=sorted(rows,key=lambda r:-r['cycle'])[:max(1,n//100)]
    print('%-11s'%'slow1% mean', ' '.join('%9.2f'%st.mean(r[k] for r in slow) for k in keys))
    mid=sorted(rows,key=lambda r:r['cycle'])[n//4:3*n//4]
    print('%-11s'%'mid50 mean', ' '.join('%9.2f'%st.mean(r[k] for r in mid) for k in keys))
    lw=[l for l in L if t0<=l['a']<=t1]
    print(f"loop lateness >3ms: {len(lw)} events, sum {sum(l['d'] for l in lw):.0f} ms, p50 {pct([l['d'] for l in lw],0.5):.1f} max {max([l['d'] for l in lw] or [0]):.1f}")
    C=[w for w in W if w['k']=='commit' and t0<=w['a']<=t1]; F=[w for w in W if w['k']=='fsync' and t0<=w['a']<=t1]
    if C: print(f"worker: commits {len(C)} (p50 {pct([c['b']-c['a'] for c in C],0.5):.2f} p99 {pct([c['b']-c['a'] for c in C],0.99):.2f} max {max(c['b']-c['a'] for c in C):.1f}); fsyncs {len(F)} (p50 {pct([c['b']-c['a'] for c in F],0.5):.2f} p99 {pct([c['b']-c['a'] for c in F],0.99):.2f} max {max([c['b']-c['a'] for c in F] or [0]):.1f}); msgs/commit {n/max(1,len(C)):.1f}")
    # slow requests overlapping gc >=3ms
    big=[g for g in G if g['d']>=3]
    def ov(r): return any(g['a']<r['f'] and g['a']+g['d']>r['f']-r['cycle'] for g in big)
    print(f"slow1% overlapping a GC>=3ms: {sum(ov(r) for r in slow)}/{len(slow)}; mid50: {sum(ov(r) for r in mid)/len(mid)*100:.0f}%")
