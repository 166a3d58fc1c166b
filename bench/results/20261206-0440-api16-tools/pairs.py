import re,sys,statistics as st
runs={}
for l in open(sys.argv[1]):
    m=re.match(r'\s+run (\d+) (\w+) (\w+) \d+ clients: (\d+) msg/s, p50 ([\d.]+) ms, p99 ([\d.]+) ms \(after the first tenth ([\d.]+).*relay CPU ([\d.]+) ms/msg, main thread ([\d.]+)',l)
    if m: runs.setdefault(int(m[1]),{})[m[3]]=dict(rate=float(m[4]),p50=float(m[5]),p99=float(m[6]),p99s=float(m[7]),cpu=float(m[8]),main=float(m[9]))
R={k:[] for k in ['rate','p99','p99s','p50','cpu','main']}
for i,r in sorted(runs.items()):
    if 'after' in r and 'before' in r:
        a,b=r['after'],r['before']
        for k in R: R[k].append(a[k]/b[k])
        print(f"pair {i}: msg/s {b['rate']:.0f}->{a['rate']:.0f} p99 {b['p99']:.0f}->{a['p99']:.0f} ms, cpu {b['cpu']:.2f}->{a['cpu']:.2f}")
for k,v in R.items(): print(f"{k:5s} ratios " + ' '.join(f'{x:.2f}' for x in v) + f"  median {st.median(v):.3f}" if v else k)
