import sys, json, urllib.request; sys.path.insert(0,'/tmp/attack28')
from h import *
R = json.load(open('/tmp/attack28/relay.json')); TOK = R['token']
URL = 'http://127.0.82.1:42004'
def post(path, body, headers={}, raw=False):
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method='POST', headers={'Authorization': 'Bearer ' + TOK, 'Content-Type': 'application/json', **headers})
    try:
        with urllib.request.urlopen(req, timeout=20) as r: return r.status, r.read().decode()[:300], dict(r.headers)
    except urllib.error.HTTPError as e: return e.code, e.read().decode()[:300], dict(e.headers)
base = {'from': 'a@acme.test', 'to': ['bob@dest.test'], 'subject': 'hi', 'text': 'hello'}
tests = [
 ('malformed', b'{"from":', True), ('notjson', b'hello', True), ('array', b'[]', True), ('null', b'null', True), ('empty', b'', True),
 ('subject-crlf', {**base, 'subject': 'hi\r\nBcc: evil@evil.test\r\nX-Inj: 1'}, False),
 ('subject-lf', {**base, 'subject': 'hi\nX-Inj: 1'}, False),
 ('from-crlf', {**base, 'from': {'name': 'A\r\nX-Inj: 1', 'email': 'a@acme.test'}}, False),
 ('from-email-crlf', {**base, 'from': 'a@acme.test\r\nX-Inj: 1'}, False),
 ('hdr-crlf', {**base, 'headers': {'X-A': 'v\r\nX-Inj: 1'}}, False),
 ('hdr-name', {**base, 'headers': {'X-A\r\nX-Inj': 'v'}}, False),
 ('hdr-from', {**base, 'headers': {'From': 'evil@evil.test'}}, False),
 ('hdr-resent', {**base, 'headers': {'Resent-From': 'evil@evil.test'}}, False),
 ('hdr-sender-lower', {**base, 'headers': {'sender': 'evil@evil.test'}}, False),
 ('hdr-bcc', {**base, 'headers': {'Bcc': 'x@evil.test'}}, False),
 ('hdr-cte', {**base, 'headers': {'Content-Transfer-Encoding': 'base64'}}, False),
 ('to-crlf', {**base, 'to': ['bob@dest.test\r\nX-Inj: 1']}, False),
 ('to-type', {**base, 'to': 5}, False), ('subject-type', {**base, 'subject': ['a']}, False), ('text-type', {**base, 'text': {'a': 1}}, False),
 ('text-dotline', {**base, 'text': 'a\r\n.\r\nMAIL FROM:<x@y>\r\n.\nb\r.\rc'}, False),
 ('to-many', {**base, 'to': ['b%d@dest.test' % i for i in range(2000)]}, False),
 ('proto', json.loads('{"__proto__": {"x": 1}, "from": "a@acme.test", "to": ["bob@dest.test"], "subject": "p", "text": "t"}'), False),
]
for name, body, raw in tests:
    st, txt, _ = post('/v1/messages', body, raw=raw)
    print(name, st, txt[:160])
# huge body
st, txt, _ = post('/v1/messages', {**base, 'text': 'x' * (60*1024*1024)}); print('huge', st, txt[:120])
