import sys, subprocess, collections, re
data, tid, pat = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else '')
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
n = len(samples); inc = collections.Counter()
for s in samples:
    for sym in set(s): inc[sym] += 1
print('samples', n)
for k, v in inc.most_common(400):
    if re.search(pat, k): print(f'{100*v/n:5.1f}% {k[:120]}')
