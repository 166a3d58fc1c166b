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
    idx = next((i for i, x in enumerate(s) if root in x), None)
    if idx is None: continue
    outer = next((x for x in s[idx+1:] if x.startswith('JS:') and 'node:' not in x), '(none)')
    c[outer[:100]] += 1
print(f'{root}: {100*sum(c.values())/n:.1f}% of {n}')
for k, v in c.most_common(12): print(f'{100*v/n:5.1f}% {k}')
