#!/usr/bin/env python3
"""screen.py FILE.jsonl [RUNS_DIR]: one line per run: procmon peaks (PSS, anon PSS) and, from smaps-peak's peak-smaps.txt,
the node binary's RSS, V8 anon (heaps+code), malloc (main+thread arenas), stacks, other; relay CPU, e2e."""
import json, os, sys, re
sys.path.insert(0, '/work/main/bench')
import importlib.util
spec = importlib.util.spec_from_file_location('sc', '/work/main/bench/smaps-classify.py'); sc = importlib.util.module_from_spec(spec); spec.loader.exec_module(sc)
print('%-34s %6s %6s %6s | %6s %6s %6s %6s %6s %6s | %6s %6s' % ('run', 'PSS', 'anonP', 'fileP', 'binRSS', 'v8', 'malloc', 'marena', 'stacks', 'anonSm', 'cpu', 'e2e'))
R = sys.argv[2] if len(sys.argv) > 2 else '/tmp/node26-bench/runs'
for row in [json.loads(l) for l in open(sys.argv[1]) if l.strip()]:
    d = os.path.join(R, row['run_id'])
    mem = json.load(open(os.path.join(d, 'mem.json')))
    sm = os.path.join(d, 'relay/log/peak-smaps.txt')
    k = {}
    if os.path.exists(sm):
        out = os.popen(f'python3 /work/main/bench/smaps-classify.py {sm}').read()
        for line in out.splitlines():
            m = re.match(r'^(.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s+\d+)?$', line)
            if m: k[m[1].strip()] = (float(m[2]), float(m[3]), float(m[4]))
    g = lambda name, i=0: k.get(name, (0, 0, 0))[i]
    binrss = g('node binary text') + g('node binary read-only data') + g('node binary data')
    v8 = g('other anonymous (V8 heaps, mapped buffers)', 2) + g('anonymous executable (V8 code)', 2)
    mal = g('malloc thread arenas', 2) + g('malloc main arena [heap]', 2)
    res = {}
    rj = row
    print('%-34s %6.1f %6.1f %6.1f | %6.1f %6.1f %6.1f %6.1f %6.1f %6.1f | %6s %6s' % (os.path.basename(d)[:34], mem['peak_pss_sum_kb'] / 1024, mem['peak_pss_anon_sum_kb'] / 1024, mem['peak_pss_file_sum_kb'] / 1024,
          binrss, v8, mal, g('malloc thread arenas', 2), g('thread stacks', 2), g('total', 2), rj and rj['relay_cpu_s_per_1k'], rj and rj['e2e_msgs_per_s']))
