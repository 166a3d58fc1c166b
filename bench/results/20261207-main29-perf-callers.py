import sys, subprocess, collections, re
# per-thread: leaf category, and for each sample the first user-space frame (for kernel leaves) and the first JS frame
data, tid_want = sys.argv[1], sys.argv[2]
out = subprocess.run(['perf','script','-i',data,'-F','tid,ip,sym,dso','--tid',tid_want], capture_output=True, text=True).stdout
samples = []; cur = None
for line in out.splitlines():
    if not line.strip():
        if cur: samples.append(cur); cur = None
        continue
    if not line.startswith('\t') and not line.startswith(' ' * 8):
        if cur: samples.append(cur)
        cur = []
        continue
    m = re.match(r'\s*([0-9a-f]+)\s+(.*) \((.*)\)$', line)
    if m and cur is not None: cur.append((m.group(2), m.group(3)))
if cur: samples.append(cur)
n = len(samples); print('samples', n)
kern = lambda d: 'kernel' in d
userfirst = collections.Counter(); jsfirst = collections.Counter(); leafc = collections.Counter()
for s in samples:
    if not s: continue
    leaf, ldso = s[0]
    uf = next(((sym, d) for sym, d in s if not kern(d)), ('?', '?'))
    js = next((sym for sym, d in s if sym.startswith('JS:') or 'perf-' in d), None)
    if kern(ldso):
        userfirst['K ' + uf[0][:70]] += 1
    jsfirst[(js or '(no JS frame) ' + uf[0])[:110]] += 1
print('--- kernel samples by first user-space frame')
for k, v in userfirst.most_common(25): print(f'{100*v/n:5.1f}% {k}')
print('--- all samples by innermost JS frame')
for k, v in jsfirst.most_common(45): print(f'{100*v/n:5.1f}% {k}')
