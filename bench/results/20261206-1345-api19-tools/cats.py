#!/usr/bin/env python3
"""Inclusive main-thread time by category of a .cpuprofile: each sample goes to the innermost frame matching a category."""
import json, sys, collections, re
p = json.load(open(sys.argv[1])); since = float(sys.argv[2]) if len(sys.argv) > 2 else 0
nodes = {x['id']: x for x in p['nodes']}
parent = {}
for x in p['nodes']:
    for c in x.get('children', []): parent[c] = x['id']
CATS = [
 ('gc', lambda f, u: f == '(garbage collector)'),
 ('dkim', lambda f, u: 'dkim-sign' in u or 'message-signer' in u or f in ('signOneShot',)),
 ('mime build', lambda f, u: 'mime-simple' in u or 'mime-bytes' in u or ('compose' in u and f == 'build') or 'nodemailer' in u or 'libmime' in u),
 ('prepareMessage', lambda f, u: 'compose' in u and f == 'prepareMessage'),
 ('zod', lambda f, u: '/zod/' in u),
 ('json body', lambda f, u: 'content-type-parser' in u or 'secure-json-parse' in u or f == 'parse' and u == ''),
 ('store hand-off', lambda f, u: f == 'postMessage' or '/store/' in u),
 ('reply', lambda f, u: 'reply.js' in u or f in ('writev', 'resOnFinish') or 'fast-json-stringify' in u or '_http_outgoing' in u),
 ('fastify route/hooks', lambda f, u: '/fastify/' in u or 'find-my-way' in u or 'avvio' in u or 'light-my-request' in u),
 ('node http parse', lambda f, u: '_http_server' in u or '_http_incoming' in u or f == 'parserOnHeadersComplete' or f == 'parserOnBody'),
 ('submission', lambda f, u: 'submission' in u or 'trace-fields' in u or 'transport-needs' in u or 'subject' in u),
 ('http server.js', lambda f, u: u.endswith('http/server.js') or 'idempotency' in u or 'api-keys' in u or 'api-key-cache' in u),
 ('quota/accounts', lambda f, u: '/accounts/' in u),
]
def cat_of(nid):
    while nid is not None:
        cf = nodes[nid]['callFrame']; f = cf['functionName']; u = cf['url']
        for name, test in CATS:
            if test(f, u): return name
        nid = parent.get(nid)
    return None
t = 0.0; by = collections.Counter(); first = collections.Counter()
for sid, dt in zip(p['samples'], p['timeDeltas']):
    t += dt / 1000
    if t < since: continue
    f = nodes[sid]['callFrame']['functionName']
    if f in ('(idle)', '(program)'): by['idle/program'] += dt/1000; continue
    c = cat_of(sid)
    if c is None:
        cf = nodes[sid]['callFrame']; first[(cf['functionName'], cf['url'].split('/')[-1])] += dt/1000
        c = 'other'
    by[c] += dt / 1000
busy = sum(v for k, v in by.items() if k != 'idle/program')
for k, v in by.most_common(): print(f"{v:8.1f} ms {100*v/busy:5.1f} %  {k}")
print('other, top:')
for k, v in first.most_common(25): print(f"   {v:7.1f} {k}")
