#!/usr/bin/env python3
"""instr-jitnames.py DUMP PERF_MAP N [self|incl] [TOP]: names the JIT-compiled (Sparkplug) frames of a
bench/instr.sh callgrind dump from the perf map the relay wrote when run with INSTR_V8="... --perf-basic-prof"
(/tmp/perf-<pid>.map), per message (N). Inclusive costs of JS frames are unreliable (recursion cycles).
bench/README.md, ninth session (helper large9)."""
import sys, re, bisect, subprocess, collections
dump, pmap, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else 'self'
ents = []
for line in open(pmap):
    p = line.rstrip('\n').split(' ', 2)
    if len(p) < 3: continue
    ents.append((int(p[0], 16), int(p[1], 16), p[2]))
ents.sort()
starts = [e[0] for e in ents]
def name(a):
    i = bisect.bisect_right(starts, a) - 1
    if i >= 0 and ents[i][0] <= a < ents[i][0] + ents[i][1]: return ents[i][2]
    return None
args = ['callgrind_annotate', '--threshold=100'] + (['--inclusive=yes'] if mode == 'incl' else ['--inclusive=no'])
out = subprocess.run(args + [dump], capture_output=True, text=True).stdout
agg = collections.Counter(); unk = 0
for line in out.splitlines():
    m = re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+\?\?\?:0x([0-9a-f]+)', line)
    if not m: continue
    ir = int(m.group(1).replace(',', '')); nm = name(int(m.group(2), 16))
    if nm is None: unk += ir; continue
    agg[nm] += ir
tot = sum(agg.values())
print(f"JIT mapped total {tot/n:,.0f}/msg, unmapped {unk/n:,.0f}/msg")
for k, v in agg.most_common(int(sys.argv[5]) if len(sys.argv) > 5 else 40):
    print(f"{v/n:12,.0f}  {k[:150]}")
