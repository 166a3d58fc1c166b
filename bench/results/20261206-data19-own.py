#!/usr/bin/env python3
# own.py N file.heapprofile: self bytes per (nearest ingress frame -> leaf site), KB/msg
import json, sys, collections
n = float(sys.argv[1]); p = json.load(open(sys.argv[2]))
FILES = ('connection.js','session.js','data-reader.js','chunk-reader.js','accept.js','address.js','reply.js','trace-fields.js','header-from.js','subject.js','transport-needs.js','stream-field.js','track-field.js','ids.js','dsn-params.js','authorisation.js','mx-header-limits.js')
pair = collections.Counter(); owner = collections.Counter(); total = 0
def nm(cf): return f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']+1}"
def walk(node, own):
    global total
    cf = node['callFrame']; name = nm(cf)
    if cf['url'].split('/')[-1] in FILES: own = name
    s = node['selfSize']; total += s
    if own and s:
        pair[(own, name)] += s; owner[own] += s
    for c in node.get('children', []): walk(c, own)
walk(p['head'], None)
print(f"total per msg KB {total/n/1024:.1f}; owned by ingress frames {sum(owner.values())/n/1024:.1f}")
for k, v in owner.most_common(45): print(f"  {v/n/1024:7.2f} {k}")
print('--- pairs')
for (o, l), v in pair.most_common(60): print(f"  {v/n/1024:7.2f} {o}  <-  {l}")
