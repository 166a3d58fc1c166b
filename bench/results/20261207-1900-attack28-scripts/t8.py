import sys, json, threading; sys.path.insert(0,'/tmp/attack28')
exec(open('/tmp/attack28/t7.py').read().split('tests = [')[0])
import uuid
k = 'k-' + uuid.uuid4().hex
b1 = {**base, 'subject': 'idem1'}; b2 = {**base, 'subject': 'idem2'}
print('first', post('/v1/messages', b1, {'Idempotency-Key': k})[:2])
r = post('/v1/messages', b1, {'Idempotency-Key': k}); print('replay', r[0], r[1][:80], r[2].get('idempotent-replayed'))
print('other body', post('/v1/messages', b2, {'Idempotency-Key': k})[:2])
print('other body reordered keys', post('/v1/messages', {'text': 'hello', 'subject': 'idem1', 'to': ['bob@dest.test'], 'from': 'a@acme.test'}, {'Idempotency-Key': k})[:2])
print('raw path same key', post('/v1/messages/raw', {'from': 'a@acme.test', 'to': ['bob@dest.test'], 'message': 'Subject: r\r\n\r\nx\r\n'}, {'Idempotency-Key': k})[:2])
print('query string same key', post('/v1/messages?x=1', b1, {'Idempotency-Key': k})[:2])
# concurrent
k2 = 'k-' + uuid.uuid4().hex; out = []
ts = [threading.Thread(target=lambda: out.append(post('/v1/messages', {**base, 'subject': 'conc'}, {'Idempotency-Key': k2})[:2])) for _ in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print('concurrent', sorted(o[0] for o in out), len(set(o[1] for o in out if o[0] == 202)))
# invalid body with key then valid body with same key
k3 = 'k-' + uuid.uuid4().hex
print('invalid first', post('/v1/messages', {**base, 'subject': 'a\r\nb'}, {'Idempotency-Key': k3})[:2])
print('valid after', post('/v1/messages', b1, {'Idempotency-Key': k3})[:2])
# raw endpoint smuggling
for name, msg in [('raw-barelf', 'Subject: r\r\n\r\na\n.\nMAIL FROM:<x@y>\n'), ('raw-barecr', 'Subject: r\r\n\r\na\r.\rb\r\n'), ('raw-dot', 'Subject: r\r\n\r\na\r\n.\r\nMAIL FROM:<x@y>\r\n'), ('raw-nul', 'Subject: r\r\n\r\na\u0000b\r\n'), ('raw-long', 'Subject: r\r\n\r\n' + 'x'*2000 + '\r\n'), ('raw-nohdr', 'no header at all'), ('raw-from-spoof', 'From: evil@evil.test\r\nSubject: r\r\n\r\nx\r\n'), ('raw-from-lead-ws', ' From: evil@evil.test\r\nSubject: r\r\n\r\nx\r\n'), ('raw-2from', 'From: a@acme.test\r\nFrom: evil@evil.test\r\n\r\nx\r\n')]:
    st, txt, _ = post('/v1/messages/raw', {'from': 'a@acme.test', 'to': ['bob@dest.test'], 'message': msg})
    print(name, st, txt[:150])
