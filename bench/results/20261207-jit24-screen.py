# 20261207-jit24-screen.py JSONL RUNS_DIR: for each harness run kept (KEEP_RUN=1) under a perf plugin (relay/log/perf.data,
# perf record -k CLOCK_REALTIME -F 1999), the measured window's samples a message split into TurboFan compile, other compile,
# and the rest (bench/perf-compile-share.py's categories), next to the harness's relay CPU a message. One-off (jit24).
import json, sys, subprocess, re, os, importlib.util
spec = importlib.util.spec_from_file_location('pcs_cat', os.path.join(os.path.dirname(__file__), '..', 'perf-compile-share.py'))
src = open(spec.origin).read(); cat_src = src[src.index('def category'):src.index('by_tid = ')]
ns = {}; exec(cat_src, ns); category = ns['category']
for line in open(sys.argv[1]):
    r = json.loads(line); d = os.path.join(sys.argv[2], r['run_id']); data = d + '/relay/log/perf.data'
    if not os.path.exists(data): continue
    w0, w1 = os.stat(d + '/waiter.ready').st_mtime, os.stat(d + '/wait.out').st_mtime
    out = subprocess.run(['perf', 'script', '-i', data, '-F', 'tid,time,ip,sym,dso'], capture_output=True, text=True).stdout
    n = tf = oc = js = 0
    for l in out.splitlines():
        m = re.match(r'\s*(\d+)\s+([\d.]+):\s+([0-9a-f]+)\s+(.*) \((.*)\)$', l)
        if not m or not (w0 <= float(m.group(2)) <= w1): continue
        c = category(m.group(4), m.group(5)); n += 1
        if c == 'compile turbofan': tf += 1
        elif c.startswith('compile'): oc += 1
        elif c.startswith('js') or 'builtins' in c: js += 1
    k = r['n'] / 1000
    print(f"{r['relay']:5} {r['label']:6} load {r['loadavg_before'].split()[0]:>5} cpu/1k {r['relay_cpu_s_per_1k']:6.3f} e2e {r['e2e_msgs_per_s']:7.1f} "
          f"samples/1k {n/k:7.0f} turbofan {tf/k:6.0f} ({100*tf/max(n,1):4.1f}%) other-compile {oc/k:4.0f} js+builtins {js/k:6.0f} rest {(n-tf-oc-js)/k:6.0f}")
