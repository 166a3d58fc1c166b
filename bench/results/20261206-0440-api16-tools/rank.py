import json,sys,collections,re
# inclusive bytes by first matching frame from the root side... use: a sample counts for a bucket if any frame in its stack matches; precedence order below (first matching bucket wins, checked leaf-first)
B=[('request body read + JSON parse (fastify content-type-parser, secure-json-parse)',r'^(onEnd|defaultJsonParser|onData|rawBody) content-type-parser'),
('zod validation (safeParse)',r'safeParse'),
('MIME build (compose build / mime-simple / nodemailer)',r'^build compose\.js'),
('request check (prepareMessage: addresses, domains)',r'^prepareMessage compose'),
('DKIM signing (signMessage)',r'^signMessage dkim-sign'),
('stored copy (#copy: Received, Subject, body writer, row)',r'^#copy submission'),
('the put: store hand-off (store/*)',r'sqlite-store|worker-client|group-commit|pg-store'),
('reply (fastify reply send / serialisation)',r'^(send server\.js|send reply|onSendEnd|serialize)'),
('auth (authenticate)',r'^authenticate server'),
('logging (pino)',r'pino'),
('module loading / start-up',r'Module\._load|module_job|loadESM|translators|compileFunction'),
('HTTP parse + fastify routing',r'parserOnHeadersComplete|preRouting|lookup find-my-way|routeHandler'),
]
p=json.load(open(sys.argv[1])); N=float(sys.argv[2])
agg=collections.Counter(); tot=0
def walk(n,st):
    global tot
    cf=n['callFrame']; name=f"{cf['functionName'] or '(anon)'} {cf['url'].split('/')[-1]}:{cf['lineNumber']}"
    st=st+[name]
    s=n['selfSize']; tot+=s
    if s:
        hit='other'
        for f in reversed(st):
            for k,rx in B:
                if re.search(rx,f): hit=k;break
            if hit!='other': break
        agg[hit]+=s
    for ch in n.get('children',[]): walk(ch,st)
walk(p['head'],[])
print(f"total {tot/N/1e3:.1f} KB/msg")
for k,v in agg.most_common(): print(f"{v/N/1e3:6.1f} KB/msg {100*v/tot:5.1f}%  {k}")
