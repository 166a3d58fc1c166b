#!/usr/bin/env python3
"""pairs26.py FILE.jsonl BASE [RUNS_DIR]: each other system's k-th run paired with BASE's k-th run.
anon = procmon's peak Pss_Anon (MB); file = RSS of every file-backed mapping in the relay at its stop
(end-smaps.txt; the node executable's pages as if no other node process shared them: production runs one);
solo = anon + file, the peak PSS the relay would have alone on a machine. cpu, e2e: ratios to BASE."""
import json, os, re, sys, statistics as st
f, base = sys.argv[1:3]
R = sys.argv[3] if len(sys.argv) > 3 else '/tmp/node26-bench/runs'
rows = [json.loads(l) for l in open(f) if l.strip()]
def mem(r):
    d = os.path.join(R, r['run_id'])
    m = json.load(open(os.path.join(d, 'mem.json')))
    anon = m['peak_pss_anon_sum_kb'] / 1024
    fileb = binr = None
    p = os.path.join(d, 'relay/log/end-smaps.txt')
    if os.path.exists(p):
        fileb = binr = 0; cur = None
        for line in open(p):
            h = re.match(r'^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$', line)
            if h: cur = h[2] if h[1] != '0' else None; continue
            if cur and line.startswith('Rss:'):
                kb = int(line.split()[1]); fileb += kb
                if cur.endswith('/node'): binr += kb
        fileb /= 1024; binr /= 1024
    return anon, fileb, binr, m['peak_pss_sum_kb'] / 1024
systems = []
for r in rows:
    if r['relay'] not in systems: systems.append(r['relay'])
B = [r for r in rows if r['relay'] == base]
bm = [mem(r) for r in B]
print(f'{base}: anon ' + ' '.join('%.1f' % m[0] for m in bm) + ' | file RSS ' + ' '.join('%.1f' % m[1] for m in bm if m[1]) + ' (node binary ' + ' '.join('%.1f' % m[2] for m in bm if m[2]) + ') | cpu ' + ' '.join('%.3f' % r['relay_cpu_s_per_1k'] for r in B) + ' | load ' + ' '.join(r.get('loadavg_before', '?').split()[0] for r in B))
for s in systems:
    if s == base: continue
    S = [r for r in rows if r['relay'] == s]
    cols = {k: [] for k in ('cpu', 'e2e', 'anon', 'file', 'solo', 'pss')}
    lines = []
    for x, y, mx in zip(B, S, bm):
        my = mem(y)
        c = y['relay_cpu_s_per_1k'] / x['relay_cpu_s_per_1k']; e = y['e2e_msgs_per_s'] / x['e2e_msgs_per_s']
        an = my[0] - mx[0]; fi = (my[1] - mx[1]) if my[1] and mx[1] else float('nan'); so = an + fi
        for k, v in zip(cols, (c, e, an, fi, so, my[3] - mx[3])): cols[k].append(v)
        lines.append(f'cpu {c:.3f} e2e {e:.3f} anon {an:+.1f} file {fi:+.1f} solo {so:+.1f} (anon {my[0]:.1f}, file {my[1] or 0:.1f}, bin {my[2] or 0:.1f}, cpu {y["relay_cpu_s_per_1k"]:.3f}, load {y.get("loadavg_before", "?").split()[0]})')
    print(f'== {s} vs {base}')
    for l in lines: print('   ' + l)
    if lines:
        print('   median (n=%d): cpu %.3f e2e %.3f anon %+.1f file %+.1f solo %+.1f (harness PSS %+.1f)' % (len(lines), *(st.median(cols[k]) for k in cols)))
