import sys, subprocess, collections, re
data, tid, root = sys.argv[1], sys.argv[2], sys.argv[3]
out = subprocess.run(['perf','script','-i',data,'-F','tid,ip,sym,dso','--tid',tid], capture_output=True, text=True).stdout
samples = []; cur = None
for line in out.splitlines():
    if not line.strip():
        if cur is not None: samples.append(cur); cur = None
        continue
    if not line.startswith((' ', '\t')) or re.match(r'^\s*\d+\s*$', line):
        if cur is not None: samples.append(cur)
        cur = []; continue
    m = re.match(r'\s*([0-9a-f]+)\s+(.*) \((.*)\)$', line)
    if m and cur is not None: cur.append(m.group(2))
if cur is not None: samples.append(cur)
n = len(samples); c = collections.Counter()
for s in samples:
    if root not in ' '.join(s): continue
    # s[0] leaf ... s[-1] outermost; look at frames between leaf and the root
    idx = next(i for i, x in enumerate(s) if root in x)
    inner = s[:idx]
    if any('RunMicrotasks' in x for x in inner): k = 'microtasks (continuations)'
    elif any('Deserializ' in x for x in inner): k = 'deserialize'
    elif any(x.startswith('JS:') for x in inner): k = 'JS: ' + next(x for x in reversed(inner) if x.startswith('JS:'))[:80]
    else: k = 'C++/other: ' + (inner[0] if inner else root)[:60]
    c[k] += 1
tot = sum(c.values()); print(f'{root}: {100*tot/n:.1f}% of {n}')
for k, v in c.most_common(30): print(f'{100*v/n:5.1f}% {k}')
