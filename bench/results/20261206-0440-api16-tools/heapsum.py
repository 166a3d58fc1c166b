import json,sys,collections,re
p=json.load(open(sys.argv[1])); N=float(sys.argv[2]) if len(sys.argv)>2 else 1
self_=collections.Counter(); incl=collections.Counter(); total=0
cats=[('zod',r'/zod/'),('dkim',r'dkim|mailauth|message-signer'),('mime',r'mime-simple|mime-bytes|nodemailer|libmime|compose'),
('fastify',r'fastify|find-my-way|avvio|light-my-request|secure-json-parse|fast-json'),('pino',r'pino'),
('store',r'/store/'),('submission',r'submission'),('undici/http',r'node:_http|_http_|node:net|node:stream')]
catc=collections.Counter()
def walk(n,stack):
    global total
    cf=n['callFrame']; name=f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']}"
    st=stack+[(name,cf['url'])]
    s=n['selfSize']; total+=s; self_[name]+=s
    for nm in set(x[0] for x in st): incl[nm]+=s
    # category: innermost matching frame from top (caller-most?) use first matching from leaf upward
    c='other'
    for nm,url in reversed(st):
        for k,rx in cats:
            if re.search(rx,url): c=k;break
        if c!='other': break
    catc[c]+=s
    for ch in n.get('children',[]): walk(ch,st)
walk(p['head'],[])
print('total MB',total/1e6,'per msg KB',total/N/1e3)
print('--- category (leaf-most matching frame)')
for k,v in catc.most_common(): print(f"{v/N/1e3:8.1f} KB/msg {100*v/total:5.1f}% {k}")
print('--- self top')
for k,v in self_.most_common(40): print(f"{v/N/1e3:8.1f} KB/msg {100*v/total:5.1f}% {k}")
print('--- inclusive top')
for k,v in incl.most_common(70): print(f"{v/N/1e3:8.1f} KB/msg {100*v/total:5.1f}% {k}")
