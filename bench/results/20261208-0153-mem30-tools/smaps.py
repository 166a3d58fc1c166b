#!/usr/bin/env python3
# classify /proc/PID/smaps: file-backed by file, anon by kind (glibc heap/arenas, thread stacks, other anon)
import sys, re, collections
pid = sys.argv[1]; sps = [int(x, 16) for x in sys.argv[2:]]
maps = []
cur = None
for line in open(f'/proc/{pid}/smaps'):
    m = re.match(r'^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ (\d+)\s*(.*)$', line)
    if m:
        cur = dict(lo=int(m[1], 16), hi=int(m[2], 16), perm=m[3], inode=int(m[4]), path=m[5].strip(), rss=0, anon=0)
        maps.append(cur); continue
    k, _, v = line.partition(':')
    if k == 'Rss': cur['rss'] = int(v.split()[0])
    elif k == 'Anonymous': cur['anon'] = int(v.split()[0])
cat = collections.Counter()
ARENA = 64 * 1024 * 1024
for i, m in enumerate(maps):
    p = m['path']; size = m['hi'] - m['lo']
    if m['inode'] != 0 and p:
        name = p.split('/')[-1]
        if name == 'node': k = 'file: node executable (text+data)'
        elif name.endswith('.node'): k = 'file: better_sqlite3.node'
        elif '.so' in name: k = 'file: shared libs'
        else: k = 'file: other'
        cat[k] += m['rss'] - m['anon']; cat['anon: COW of file maps'] += m['anon']
        continue
    if p == '[heap]': cat['anon: glibc main arena [heap]'] += m['rss']; continue
    if p.startswith('[stack'): cat['anon: main thread stack'] += m['rss']; continue
    if p.startswith('['): cat['other ' + p] += m['rss']; continue
    if any(m['lo'] <= sp < m['hi'] for sp in sps): cat['anon: thread stacks'] += m['rss']; cat['#threads stacks'] += 1; continue
    # glibc non-main arena: heap aligned at 64 MB, rw part possibly followed by ---p remainder
    if m['lo'] % ARENA == 0 and 'rw' in m['perm'] and (size == ARENA or (i + 1 < len(maps) and maps[i+1]['lo'] == m['hi'] and maps[i+1]['perm'].startswith('---') and maps[i+1]['hi'] - m['lo'] == ARENA)):
        cat['anon: glibc thread arenas'] += m['rss']; cat['#arenas'] += 1; continue
    cat['anon: other (V8 heap, mmapped malloc, ...)'] += m['rss']
for k in sorted(cat): print(f'  {k:48s} {cat[k]/1024:8.1f}' if not k.startswith('#') else f'  {k:48s} {cat[k]:8d}')
