#!/usr/bin/env python3
"""A sampling heap profile (bench/alloc-sample.cjs; with ALLOC_PROMOTED=1 what survived the scavenges) by site (api27):
bytes a message (MSGS: the messages the profile covers) by the allocating frame, by the innermost Postlane frame
(dist/src/...) on its stack, and by package (node_modules/<pkg>, node: internals, Postlane).
  python3 bench/heapprof-sites.py FILE.heapprofile MSGS [TOP=25]"""
import json, re, sys
from collections import defaultdict
prof = json.load(open(sys.argv[1])); msgs = int(sys.argv[2]); top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
def name(cf):
    url = cf.get('url', '')
    short = re.sub(r'^.*/(node_modules/)', r'\1', url); short = re.sub(r'^.*/dist/', 'dist/', short)
    return f"{cf.get('functionName') or '(anon)'} {short}:{cf.get('lineNumber', -1) + 1}"
def pkg(url):
    m = re.search(r'node_modules/((?:@[^/]+/)?[^/]+)', url)
    if m: return m.group(1)
    if '/dist/src/' in url: return 'postlane'
    if url.startswith('node:'): return 'node:' + url[5:].split('/')[1 if url.startswith('node:internal') else 0]
    return url or '(native/VM)'
by_top = defaultdict(float); by_ours = defaultdict(float); by_pkg = defaultdict(float); total = 0.0
def walk(n, stack):
    global total
    cf = n['callFrame']; st = stack + [cf]
    s = n.get('selfSize', 0)
    if s:
        total += s
        by_top[name(cf)] += s
        ours = next((name(f) for f in reversed(st) if '/dist/src/' in f.get('url', '')), '(no Postlane frame)')
        by_ours[ours] += s
        # the package of the allocating frame; a builtin/native frame takes its nearest caller's with a URL
        u = next((f.get('url', '') for f in reversed(st) if f.get('url')), '')
        by_pkg[pkg(u)] += s
    for c in n.get('children', []): walk(c, st)
walk(prof['head'], [])
kb = lambda b: b / msgs / 1024
print(f"total {kb(total):.2f} KB a message over {msgs} messages ({total / 1048576:.1f} MB sampled)\n")
for title, d in (('allocating frame', by_top), ('innermost Postlane frame', by_ours), ('package of the nearest frame with a URL', by_pkg)):
    print(f"| {title} | KB/msg | share |\n|---|---|---|")
    for k, v in sorted(d.items(), key=lambda x: -x[1])[:top]: print(f"| {k} | {kb(v):.3f} | {100 * v / total:.1f} % |")
    print()
