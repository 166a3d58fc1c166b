import sys; sys.path.insert(0,'/tmp/attack28')
exec(open('/tmp/attack28/t7.py').read().split('tests = [')[0])
before = sinkcount()
for name, b in [('text-nul', {**base, 'subject': 'tn', 'text': 'a\u0000b'}), ('html-nul', {**base, 'subject': 'hn', 'html': '<p>a\u0000b</p>'}), ('name-nul', {**base, 'subject': 'nn', 'from': {'name': 'A\u0000B', 'email': 'a@acme.test'}}), ('att-nul', {**base, 'subject': 'an', 'attachments': [{'filename': 'a\u0000.txt', 'content': 'AAAA', 'content_type': 'text/plain'}]}), ('ctype', {**base, 'subject': 'ct', 'attachments': [{'filename': 'a.txt', 'content': 'AAAA', 'content_type': 'text/plain\r\nX-Inj: 1'}]}), ('cid', {**base, 'subject': 'cid', 'attachments': [{'filename': 'a.txt', 'content': 'AAAA', 'content_type': 'text/plain', 'content_id': 'x>\r\nX-Inj: 1'}]})]:
    st, txt, _ = post('/v1/messages', b); print(name, st, txt[:140])
time.sleep(4)
for m in newmsgs(before, wait=1, want=0):
    u = unstuff(m); print(b'\x00' in u, b'X-Inj' in u, [l for l in u.split(b'\r\n') if b'Subject' in l])
