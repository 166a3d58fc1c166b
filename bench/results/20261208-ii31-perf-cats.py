#!/usr/bin/env python3
"""ii31-perf-cats.py PERF.data: share of samples by thread (main = lowest tid) and category of the sampled symbol:
V8 compiler, GC, JS/builtins (perf map), SQLite, kernel, libc, other Node/V8. Needs /tmp/perf-PID.map for JIT names."""
import sys, subprocess, collections, re
out = subprocess.run(['perf', 'report', '-i', sys.argv[1], '--no-children', '--sort', 'pid,dso,sym', '-g', 'none', '--stdio'],
                     capture_output=True, text=True).stdout
cnt = collections.defaultdict(collections.Counter)
for line in out.splitlines():
    m = re.match(r'^\s+([\d.]+)%\s+(\d+):\S+\s+(\S+)\s+\[(.)\]\s+(.*)$', line)
    if not m: continue
    pct, tid, dso, kind, sym = float(m.group(1)), int(m.group(2)), m.group(3), m.group(4), m.group(5)
    if kind == 'k' or 'kernel' in dso: c = 'kernel'
    elif 'better_sqlite3' in dso: c = 'sqlite'
    elif 'libc' in dso: c = 'libc'
    elif 'perf-' in dso or dso.startswith('[JIT') : c = 'js/builtins'
    elif 'compiler::' in sym or 'Turbofan' in sym or 'maglev' in sym or 'Compile' in sym: c = 'compiler'
    elif re.search(r'Scaveng|Mark|Sweep|Evacuat|RememberedSet|FreeList|Marking|SlotSet|Compactor|BodyDescriptor|SizeFromMap|GC|Heap', sym): c = 'gc'
    elif 'Builtins_' in sym or 'BytecodeHandler' in sym: c = 'js/builtins'
    else: c = 'other(node)'
    cnt[tid][c] += pct
main = min(cnt)
cats = ['js/builtins', 'other(node)', 'gc', 'compiler', 'sqlite', 'libc', 'kernel']
print(f"{'thread':>10} {'% of all':>8} " + ' '.join(f'{c:>12}' for c in cats) + '   (each category: % of all samples)')
for t, v in sorted(cnt.items(), key=lambda kv: -sum(kv[1].values())):
    n = sum(v.values())
    if n < 0.5: continue
    print(f"{str(t)+('*' if t == main else ''):>10} {n:8.1f} " + ' '.join(f'{v[c]:12.1f}' for c in cats))
