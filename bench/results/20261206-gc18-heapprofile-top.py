#!/usr/bin/env python3
# top.py N_MSGS file.heapprofile [focus-substring ...]: self bytes per site, inclusive for functions matching focus
import json, sys, collections
n = float(sys.argv[1]); f = sys.argv[2]; focus = sys.argv[3:]
p = json.load(open(f))
selfb = collections.Counter(); incl = collections.Counter(); total = 0
def walk(node, stack):
    global total
    cf = node['callFrame']
    name = f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']+1}"
    s = node['selfSize']; total += s
    selfb[name] += s
    st = stack + [name]
    for fo in focus:
        for fr in set(st):
            if fo in fr: incl[fr] += s
    for c in node.get('children', []): walk(c, st)
walk(p['head'], [])
print(f"total MB {total/1e6:.1f}  per msg KB {total/n/1024:.1f}")
for k, v in selfb.most_common(40): print(f"  {v/n/1024:7.2f} KB/msg {100*v/total:5.1f}% {k}")
if focus:
    print('--- inclusive')
    for k, v in incl.most_common(30): print(f"  {v/n/1024:7.2f} KB/msg {100*v/total:5.1f}% {k}")
