import subprocess, sys, re
# share of perf samples whose call chain runs through V8's optimising compiler
pat = re.compile(r'v8::internal::compiler::|OptimizingCompileDispatcher|TurbofanCompilationJob|OptimizedCompilationJob|turboshaft')
for f in sys.argv[1:]:
    out = subprocess.run(['perf', 'script', '-i', f, '-F', 'comm,tid,ip,sym'], capture_output=True, text=True).stdout
    total = tf = 0; cur = None
    for block in out.split('\n\n'):
        if not block.strip(): continue
        total += 1
        if pat.search(block): tf += 1
    print(f"{f}: samples {total}, through the optimising compiler {tf} ({100*tf/max(1,total):.1f} %)")
