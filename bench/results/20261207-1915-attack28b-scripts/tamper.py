# attack28b: forged and altered tracking/unsubscribe tokens against run-relay.mjs (after track.py).
import json, base64, http.client, sqlite3, glob, time
T = json.load(open('/tmp/attack28b/tokens.json')); R = json.load(open('/tmp/attack28b/relay.json'))
def req(method, path, body=None, headers={}):
    c = http.client.HTTPConnection('127.0.84.1', 44004, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True)
    for k, v in headers.items(): c.putheader(k, v)
    if body is not None: c.putheader('content-length', str(len(body)))
    c.endheaders(); 
    if body is not None: c.send(body)
    r = c.getresponse(); b = r.read(); c.close(); return r.status, dict(r.getheaders()), b
def b64(d): return base64.urlsafe_b64encode(json.dumps(d, separators=(',', ':')).encode()).rstrip(b'=').decode()
def unb(s): return json.loads(base64.urlsafe_b64decode(s + '=' * (-len(s) % 4)))
click = T['links'][0]; pay, mac = click.split('.'); p = unb(pay)
pix = T['pixel'][0]; unsub = T['unsub'][0]
cases = {
  'other account': b64({**p, 'a': 'other'}) + '.' + mac,
  'other url': b64({**p, 'u': 'https://evil.test/'}) + '.' + mac,
  'mac last char +1': pay + '.' + mac[:-1] + ('A' if mac[-1] != 'A' else 'B'),
  'mac padding variant': pay + '.' + mac[:-1] + chr(ord(mac[-1]) ^ 1),
  'payload padded =': pay + '=.' + mac,
  'open token at /t/c': pix,
  'unsub token at /t/c': unsub,
  'empty': '', 'dot only': '.', 'huge': 'A' * 5000 + '.' + mac,
  'crlf': click + '%0d%0aSet-Cookie:%20x=1', 'query': click + '?u=https://evil.test/', 'fragment-ish': click + '%23x',
  'double slash': '/' + click, 'trailing slash': click + '/', 'trailing dot': click + '.', 'percent-encoded token': click.replace('.', '%2E'),
  'base64 std chars': pay.replace('-', '+').replace('_', '/') + '.' + mac,
}
for name, tok in cases.items():
    st, h, b = req('GET', '/t/c/' + tok); print(f'click {name:26} {st} {h.get("location")}')
for name, path in {'click token at /t/o': '/t/o/' + click + '.gif', 'pixel no .gif': '/t/o/' + pix, 'pixel .GIF': '/t/o/' + pix + '.GIF',
                   'pixel ok': '/t/o/' + pix + '.gif', 'pixel .gif.gif': '/t/o/' + pix + '.gif.gif'}.items():
    st, h, b = req('GET', path); print(f'open  {name:26} {st} {h.get("content-type")}')
st, h, _ = req('HEAD', '/t/c/' + click); print('HEAD click', st, h.get('location'))
for i in range(3): st, h, _ = req('GET', '/t/c/' + click); print('replay', st)
# unsubscribe
up = unsub.split('.')
for name, (m, path, body, hd) in {
  'GET': ('GET', '/u/' + unsub, None, {}),
  'HEAD': ('HEAD', '/u/' + unsub, None, {}),
  'POST no body': ('POST', '/u/' + unsub, b'', {'content-type': 'application/x-www-form-urlencoded'}),
  'POST wrong body': ('POST', '/u/' + unsub, b'List-Unsubscribe=One-Clickx', {'content-type': 'application/x-www-form-urlencoded'}),
  'POST json': ('POST', '/u/' + unsub, b'{"List-Unsubscribe":"One-Click"}', {'content-type': 'application/json'}),
  'POST other account': ('POST', '/u/' + b64({**unb(up[0]), 'a': 'other'}) + '.' + up[1], b'List-Unsubscribe=One-Click', {'content-type': 'application/x-www-form-urlencoded'}),
  'POST other rcpt': ('POST', '/u/' + b64({**unb(up[0]), 'r': 'victim@far.test'}) + '.' + up[1], b'List-Unsubscribe=One-Click', {'content-type': 'application/x-www-form-urlencoded'}),
  'POST tracking token': ('POST', '/u/' + pix, b'List-Unsubscribe=One-Click', {'content-type': 'application/x-www-form-urlencoded'}),
  'POST query only': ('POST', '/u/' + unsub + '?List-Unsubscribe=One-Click', b'', {'content-type': 'application/x-www-form-urlencoded'}),
  'GET with body': ('GET', '/u/' + unsub, b'List-Unsubscribe=One-Click', {'content-type': 'application/x-www-form-urlencoded'}),
}.items():
    st, h, b = req(m, path, body, hd); print(f'unsub {name:22} {st} {b[:60]!r}')
import os
READ = os.environ['READ_TOKEN']  # a read key: postlane keys create --account acme --scope read
def evs(t):
    c = http.client.HTTPConnection('127.0.84.1', 44004); c.request('GET', f'/v1/events?type={t}&limit=100', headers={'authorization': 'Bearer ' + READ})
    return [(e['recipient'], e['type']) for e in json.loads(c.getresponse().read())['data']]
print('events before real POST', evs('unsubscribed'), len(evs('clicked')), len(evs('opened')))
st, h, b = req('POST', '/u/' + unsub, b'List-Unsubscribe=One-Click', {'content-type': 'application/x-www-form-urlencoded'}); print('real POST', st, b)
st, h, b = req('POST', '/u/' + unsub, b'List-Unsubscribe=One-Click', {'content-type': 'application/x-www-form-urlencoded'}); print('replayed POST', st, b)
time.sleep(0.5); print('events after', evs('unsubscribed'))
