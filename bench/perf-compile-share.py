# perf-compile-share.py PERF.DATA [RUN_DIR] [BUCKET_S]: a relay's CPU split into V8's compilers and the rest (bench/README.md,
# twenty-fourth session, jit24). Record with the relay under
# `perf record -k CLOCK_REALTIME -F 1999 -o PERF.DATA -- node … --perf-basic-prof-only-functions` (a relays plugin's
# PL_ENV, see the README). With RUN_DIR (a harness run kept with KEEP_RUN=1) only the samples of the measured window
# count (waiter.ready's mtime .. wait.out's). Prints per thread (top 12) the category shares, the totals, and the
# compile share over time in BUCKET_S-second buckets (default 2).
import sys, subprocess, collections, re, os
data = sys.argv[1]; run = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] != '-' else None
bucket = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
w0, w1 = (os.stat(run + '/waiter.ready').st_mtime, os.stat(run + '/wait.out').st_mtime) if run else (0, 1e12)
out = subprocess.run(['perf', 'script', '-i', data, '-F', 'tid,time,ip,sym,dso'], capture_output=True, text=True).stdout
def category(sym, dso):
    if 'kernel' in dso: return 'kernel'
    if 'better_sqlite3' in dso: return 'sqlite'
    if sym.startswith('JS:') or 'perf-' in dso or 'JIT' in dso:
        if sym.startswith('JS:*'): return 'js turbofan code'
        if sym.startswith('JS:^'): return 'js sparkplug code'
        if sym.startswith('JS:+'): return 'js maglev code'
        if sym.startswith('JS:~'): return 'js interpreted (handler)'
        return 'js other'
    if 'libc' in dso: return 'libc'
    if 'maglev::' in sym: return 'compile maglev'
    if 'baseline::' in sym or 'Baseline' in sym and 'Builtins_' not in sym: return 'compile sparkplug'
    if 'compiler::' in sym or 'Turbofan' in sym or 'TurboFan' in sym or 'OptimizedCompilationJob' in sym or 'OptimizingCompileDispatcher' in sym: return 'compile turbofan'
    if ('Parser' in sym or 'Scanner' in sym or 'BytecodeGenerator' in sym or 'interpreter::' in sym and 'Builtins' not in sym
            or 'Compiler::Compile' in sym or 'Zone::' in sym or 'AstNode' in sym or 'AstValue' in sym or 'DeclarationScope' in sym
            or 'PreParser' in sym or 'Scope::' in sym or 'SharedFunctionInfo::EnsureSourcePositions' in sym): return 'compile bytecode/parse'
    if 'heap::' in sym or 'Scavenge' in sym or 'Mark' in sym or '::GC' in sym or 'Sweep' in sym or 'Evacuat' in sym or 'Heap::' in sym: return 'v8 gc'
    if sym.startswith('Builtins_'):
        if 'IC' in sym: return 'v8 builtins IC'
        if 'Interpreter' in sym or 'Bytecode' in sym: return 'v8 builtins interpreter'
        return 'v8 builtins other'
    if 'Deoptimiz' in sym: return 'v8 deopt'
    if 'v8::' in sym: return 'v8 runtime'
    if 'node::' in sym or 'uv_' in sym: return 'node/libuv'
    return 'other'
by_tid = collections.Counter(); cat = collections.defaultdict(collections.Counter); tot_cat = collections.Counter()
syms = collections.defaultdict(collections.Counter); t0 = None; over_time = collections.defaultdict(collections.Counter)
for line in out.splitlines():
    m = re.match(r'\s*(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s+(.*) \((.*)\)$', line)
    if not m: continue
    tid, t, ip, sym, dso = m.groups(); t = float(t)
    if not (w0 <= t <= w1): continue
    if t0 is None: t0 = t
    c = category(sym, dso)
    by_tid[tid] += 1; cat[tid][c] += 1; tot_cat[c] += 1; syms[c][sym] += 1
    over_time[int((t - t0) / bucket)]['all'] += 1
    if c.startswith('compile'): over_time[int((t - t0) / bucket)][c] += 1
tot = sum(by_tid.values())
print(f'samples {tot}')
for tid, n in by_tid.most_common(12):
    print(f"tid {tid}: {100*n/tot:.1f}%  " + ', '.join(f"{k} {100*v/n:.0f}%" for k, v in cat[tid].most_common(7)))
print('\nall threads:')
for c, v in tot_cat.most_common(): print(f'  {100*v/tot:5.1f}% {c}')
comp = sum(v for c, v in tot_cat.items() if c.startswith('compile'))
print(f'  compile total {100*comp/tot:.1f}%')
print(f'\nover time ({bucket:g} s buckets): samples, compile %, of which turbofan/sparkplug/bytecode/maglev')
for b in sorted(over_time):
    o = over_time[b]; n = o['all']
    cc = sum(v for k, v in o.items() if k.startswith('compile'))
    print(f"  {b*bucket:6.1f}s {n:6d} {100*cc/n:5.1f}%  tf {o['compile turbofan']} sp {o['compile sparkplug']} bc {o['compile bytecode/parse']} mg {o['compile maglev']}")
for c in ('compile turbofan', 'compile sparkplug', 'compile bytecode/parse', 'other', 'v8 runtime'):
    print(f'\ntop {c}:'); [print(f'   {v:6d} {s[:110]}') for s, v in syms[c].most_common(8)]
