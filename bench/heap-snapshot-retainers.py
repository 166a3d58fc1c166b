#!/usr/bin/env python3
"""Which objects of a heap snapshot have all the given properties, how many, and their first retainer paths (api27: the
DKIM parse entries {key, casedKey, line} under load: 1, the allocation site's boilerplate, so they are not held in flight).
  python3 bench/heap-snapshot-retainers.py FILE.heapsnapshot prop1,prop2,..."""
import json, sys
from collections import defaultdict, Counter
snap = json.load(open(sys.argv[1])); props = sys.argv[2].split(',')
meta = snap['snapshot']['meta']; nf = meta['node_fields']; ef = meta['edge_fields']
ntypes = meta['node_types'][0]; etypes = meta['edge_types'][0]
N, E, S = snap['nodes'], snap['edges'], snap['strings']
NL, EL = len(nf), len(ef)
n_type, n_name, n_edges, n_size = nf.index('type'), nf.index('name'), nf.index('edge_count'), nf.index('self_size')
e_type, e_name, e_to = ef.index('type'), ef.index('name_or_index'), ef.index('to_node')
count = len(N) // NL
first_edge = [0] * (count + 1)
for i in range(count): first_edge[i + 1] = first_edge[i] + N[i * NL + n_edges] * EL
rev = defaultdict(list)
def ename(j):
    t = etypes[E[j + e_type]]
    return str(E[j + e_name]) if t in ('element', 'hidden') else S[E[j + e_name]]
match = []
for i in range(count):
    names = set()
    for j in range(first_edge[i], first_edge[i + 1], EL):
        if etypes[E[j + e_type]] == 'property': names.add(S[E[j + e_name]])
        rev[E[j + e_to] // NL].append((i, j))
    if all(p in names for p in props): match.append(i)
print('objects with', props, ':', len(match))
def label(i): return f"{ntypes[N[i * NL]]}:{S[N[i * NL + n_name]][:60]}"
paths = Counter()
for m in match[:400]:
    path, cur, seen = [], m, {m}
    for _ in range(12):
        rs = [r for r in rev[cur] if etypes[E[r[1] + e_type]] != 'weak' and r[0] not in seen]
        if not rs: break
        r, j = rs[0]
        path.append(f"{label(r)}.{ename(j)}"); seen.add(r); cur = r
    paths[' <- '.join(path[:9])] += 1
for p, n in paths.most_common(8): print(n, p, '\n')
