"""chain.py perf.data TID SYM [DEPTH]: for samples whose leaf is SYM (or contains it in the top frames), the syscall/libc/JS frames above it."""
import sys, subprocess, collections, re
data, tid, sym = sys.argv[1:4]; depth = int(sys.argv[4]) if len(sys.argv) > 4 else 12
out = subprocess.run(['perf','script','-i',data,'-F','tid,ip,sym,dso','--tid',tid], capture_output=True, text=True).stdout
samples=[]; cur=None
for line in out.splitlines():
    if not line.strip():
        if cur is not None: samples.append(cur); cur=None
        continue
    if not line.startswith((' ','\t')) or re.match(r'^\s*\d+\s*$', line):
        if cur is not None: samples.append(cur)
        cur=[]; continue
    m=re.match(r'\s*([0-9a-f]+)\s+(.*) \((.*)\)$', line)
    if m and cur is not None: cur.append((m.group(2), m.group(3)))
if cur is not None: samples.append(cur)
n=len(samples); c=collections.Counter(); hit=0
for s in samples:
    if not s or sym not in s[0][0]: continue
    hit+=1
    # first non-kernel frame, and the syscall entry
    sc = next((f for f,d in s if f.startswith('__x64_sys_') or f.startswith('__do_sys') ), '?')
    user = next((f for f,d in s if 'kernel' not in d), '?')
    js = next((f for f,d in s if f.startswith('JS:')), '-')
    c[(sc, user, js[:70])]+=1
print(f'{sym}: {hit} of {n} samples ({100*hit/n:.1f}%)')
for k,v in c.most_common(depth): print(f'{100*v/n:5.2f}% {k}')
