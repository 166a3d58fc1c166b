#!/usr/bin/env python3
"""breakdown.py RUN_DIR...: per run, the relay's memory at its PSS peak: smaps by kind (RSS/PSS/anon MB),
and the main and worker isolates' V8 spaces (committed MB) from mem-sample-spaces.cjs at the sample of
the highest anonymous memory, plus each space's own max over the run."""
import json, os, sys, glob, subprocess
for d in sys.argv[1:]:
    log = os.path.join(d, 'relay/log')
    print('=' * 20, os.path.basename(d))
    mem = json.load(open(os.path.join(d, 'mem.json'))) if os.path.exists(os.path.join(d, 'mem.json')) else {}
    print('procmon peaks MB: pss %.1f anon(pss) %.1f file(pss) %.1f' % tuple(mem.get(k, 0) / 1024 for k in ('peak_pss_sum_kb', 'peak_pss_anon_sum_kb', 'peak_pss_file_sum_kb')))
    sm = os.path.join(log, 'peak-smaps.txt')
    if os.path.exists(sm):
        print(subprocess.run(['python3', '/work/main/bench/smaps-classify.py', '-a', sm], capture_output=True, text=True).stdout)
    main = glob.glob(os.path.join(log, 'heap-main-*.jsonl'))
    if not main: continue
    rows = [json.loads(l) for l in open(main[0]) if l.strip()]
    pk = max(rows, key=lambda r: r.get('anon', 0))
    keys = [k for k in pk if k in ('new', 'old', 'code', 'trusted', 'large_object', 'new_large_object', 'code_large_object', 'trusted_large_object', 'read_only', 'shared', 'shared_trusted')]
    print('main isolate at anon peak (t=%d ms, anon %.1f MB, pss %.1f): ' % (pk['t'], pk['anon'] / 1024, pk['pss'] / 1024) +
          ' '.join('%s %.1f' % (k, pk[k] / 1024) for k in keys if pk[k]) + ' | sum %.1f ext %.1f ab %.1f' % (sum(pk[k] for k in keys) / 1024, pk['ext'] / 1024, pk['ab'] / 1024))
    print('main isolate max over run: ' + ' '.join('%s %.1f' % (k, max(r.get(k, 0) for r in rows) / 1024) for k in keys) + ' | heapTotal %.1f' % (max(r['heapTotal'] for r in rows) / 1024))
    for w in glob.glob(os.path.join(log, 'heap-w*.jsonl')):
        wr = [json.loads(l) for l in open(w) if l.strip()]
        near = min(wr, key=lambda r: abs(r['t'] - pk['t']))
        print('worker %s near that time: ' % os.path.basename(w) + ' '.join('%s %.1f' % (k, near.get(k, 0) / 1024) for k in keys if near.get(k)) + ' | sum %.1f; max heapTotal %.1f' % (sum(near.get(k, 0) for k in keys) / 1024, max(r['heapTotal'] for r in wr) / 1024))
