# self and inclusive Ir per message of JIT (named by perf map) and native functions, conn vs keep, main thread (load-01)
import sys, re, bisect, subprocess, collections
def load(prefix, n, incl):
    ents=[]
    for line in open(prefix+'.map'):
        p=line.rstrip('\n').split(' ',2)
        if len(p)<3: continue
        ents.append((int(p[0],16),int(p[1],16),p[2]))
    ents.sort(); starts=[e[0] for e in ents]
    def name(a, exact):
        i=bisect.bisect_right(starts,a)-1
        if i>=0 and ents[i][0]<=a<ents[i][0]+ents[i][1]:
            if exact and ents[i][0]!=a: return None
            return ents[i][2]
        return None
    args=['callgrind_annotate','--threshold=100','--inclusive='+('yes' if incl else 'no'), prefix+'.load-01']
    out=subprocess.run(args,capture_output=True,text=True).stdout
    agg=collections.Counter()
    for line in out.splitlines():
        m=re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+(.*)$',line)
        if not m: continue
        ir=int(m.group(1).replace(',','')); nm=m.group(2)
        mm=re.match(r'\?\?\?:0x([0-9a-f]+)',nm)
        if mm:
            x=name(int(mm.group(1),16), incl)
            if x is None:
                if incl: continue
                x='JIT-unmapped'
            nm=re.sub(r'file:///tmp/conn18-[a-z0-9]+/dist/bundle/','',x)
        else:
            nm=re.sub(r' \[.*\]$','',nm)
        agg[nm]+=ir
    return {k:v/n for k,v in agg.items()}
c=load(sys.argv[1], int(sys.argv[2]), sys.argv[5]=='incl'); k=load(sys.argv[3], int(sys.argv[4]), sys.argv[5]=='incl')
top=int(sys.argv[6]) if len(sys.argv)>6 else 60
filt=sys.argv[7] if len(sys.argv)>7 else None
keys=set(c)|set(k)
if filt: keys=[x for x in keys if re.search(filt,x)]
for x in sorted(keys,key=lambda x:-(c.get(x,0)-k.get(x,0)))[:top]:
    print(f"{c.get(x,0)-k.get(x,0):9.0f} {c.get(x,0):9.0f} {k.get(x,0):9.0f}  {x[:130]}")
