import sys, subprocess, collections, re
data = sys.argv[1]; tid_want = sys.argv[2] if len(sys.argv) > 2 else None
out = subprocess.run(['perf','script','-i',data,'-F','tid,ip,sym,dso','-G'], capture_output=True, text=True).stdout
by_tid = collections.Counter(); cat = collections.defaultdict(collections.Counter); syms = collections.defaultdict(collections.Counter)
def category(sym, dso):
    if 'kernel' in dso: return 'kernel'
    if 'better_sqlite3' in dso: return 'sqlite'
    if 'libc' in dso: return 'libc'
    if 'JIT' in dso or 'perf-' in dso: return 'JS jit'
    if 'compiler::' in sym or 'Turbofan' in sym or 'maglev' in sym: return 'v8 compiler'
    if 'heap::' in sym or 'Scavenge' in sym or 'Mark' in sym or 'GC' in sym or 'Sweep' in sym or 'Evacuat' in sym: return 'v8 gc'
    if sym.startswith('Builtins_'): return 'v8 builtins'
    if 'v8::' in sym: return 'v8 runtime'
    if 'node::' in sym or 'uv_' in sym: return 'node/libuv'
    return 'other'
for line in out.splitlines():
    m = re.match(r'\s*(\d+)\s+([0-9a-f]+)\s+(.*) \((.*)\)$', line)
    if not m: continue
    tid, ip, sym, dso = m.groups()
    by_tid[tid] += 1; cat[tid][category(sym, dso)] += 1; syms[tid][sym] += 1
tot = sum(by_tid.values())
for tid, n in by_tid.most_common(8):
    print(f"tid {tid}: {100*n/tot:.1f}%  " + ', '.join(f"{k} {100*v/n:.0f}%" for k, v in cat[tid].most_common(8)))
    if tid_want in (tid, 'all'):
        for s, v in syms[tid].most_common(25): print(f"     {100*v/n:5.1f}% {s[:100]}")
