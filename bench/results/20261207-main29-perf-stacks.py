"""perf-stacks.py MODE perf.data TID [ARG]: one thread's call stacks from `perf script`, counted three ways.
  inclusive [REGEX]  share of samples with each symbol anywhere on the stack (those matching REGEX)
  under ROOT         samples with ROOT on the stack, by what runs inside it (continuations, deserialisation, JS, C++)
  who ROOT           samples with ROOT on the stack, by the first Postlane JS frame outside it (its caller)"""
import sys, subprocess, collections, re
mode, data, tid = sys.argv[1], sys.argv[2], sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else ''
out = subprocess.run(['perf', 'script', '-i', data, '-F', 'tid,ip,sym,dso', '--tid', tid], capture_output=True, text=True).stdout
samples = []; cur = None  # each sample: its frames' symbols, leaf first
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
if mode == 'inclusive':
    for s in samples:
        for sym in set(s): c[sym] += 1
    print('samples', n)
    for k, v in c.most_common(400):
        if re.search(arg, k): print(f'{100*v/n:5.1f}% {k[:120]}')
    sys.exit(0)
for s in samples:
    idx = next((i for i, x in enumerate(s) if arg in x), None)
    if idx is None: continue
    if mode == 'who':
        c[next((x for x in s[idx+1:] if x.startswith('JS:') and 'node:' not in x), '(none)')[:100]] += 1
        continue
    inner = s[:idx]  # between the leaf and the root
    if any('RunMicrotasks' in x for x in inner): k = 'microtasks (continuations)'
    elif any('Deserializ' in x for x in inner): k = 'deserialize'
    elif any(x.startswith('JS:') for x in inner): k = 'JS: ' + next(x for x in reversed(inner) if x.startswith('JS:'))[:80]
    else: k = 'C++/other: ' + (inner[0] if inner else arg)[:60]
    c[k] += 1
print(f'{arg}: {100*sum(c.values())/n:.1f}% of {n}')
for k, v in c.most_common(30): print(f'{100*v/n:5.1f}% {k}')
