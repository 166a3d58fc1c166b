# attack28b: tracking and unsubscribe over HTTP against run-relay.mjs (API 127.0.84.1:44004, sink files in /tmp/attack28b/sink).
import json, urllib.request, base64, re, time, os, glob, quopri, email, hmac, http.client
R = json.load(open('/tmp/attack28b/relay.json')); TOK = R['token']; H, P = '127.0.84.1', 44004
def req(method, path, body=None, headers={}):
    c = http.client.HTTPConnection(H, P, timeout=10)
    c.request(method, path, body=body, headers=headers); r = c.getresponse(); b = r.read(); c.close()
    return r.status, dict(r.getheaders()), b
def api(body):
    return req('POST', '/v1/messages', json.dumps(body), {'authorization': f'Bearer {TOK}', 'content-type': 'application/json'})
HTML = ('<html><body>'
  '<a href="https://good.test/a?x=1&amp;y=2">ok</a>'
  '<a href="javascript:alert(1)">js</a><a href="data:text/html,<script>alert(1)</script>">data</a>'
  '<a href="  JaVaScRiPt:alert(1)">js2</a><a href="java&#x09;script:alert(1)">js3</a>'
  '<a href="https://evil.test/%0d%0aSet-Cookie:%20x=1">crlf</a>'
  "<a href='https://q.test/\"onmouseover=alert(1)'>quote</a>"
  '<a href=https://unq.test/a>unq</a><a href="https://unbalanced.test/<b>">ub</a>'
  '<a href="https://x.test/\r\nLocation: https://evil.test/">nl</a>'
  '<a href="http://[::1]:80/">v6</a><a href="https://user:pw@evil.test@good.test/">cred</a>'
  '<!-- <a href="https://comment.test/">c</a> --><a href="https://last.test/"  '
  '</body></html>')
before = set(glob.glob('/tmp/attack28b/sink/*.raw'))
st, h, b = api({'from': 'alice@acme.test', 'to': ['r1@far.test'], 'subject': 'trk', 'html': HTML, 'track': {'opens': True, 'clicks': True}, 'stream': 'broadcast'})
print('send', st, b[:300])
for _ in range(50):
    new = set(glob.glob('/tmp/attack28b/sink/*.raw')) - before
    if new: break
    time.sleep(0.2)
raw = open(sorted(new)[0], 'rb').read().replace(b'\r\n..', b'\r\n.')
msg = email.message_from_bytes(raw)
html = [p for p in msg.walk() if p.get_content_type() == 'text/html'][0].get_payload(decode=True).decode()
print(html)
print('List-Unsubscribe:', msg['List-Unsubscribe'])
links = re.findall(r'/t/c/([A-Za-z0-9_.-]+)', html); pix = re.findall(r'/t/o/([A-Za-z0-9_.-]+)\.gif', html)
unsub = re.findall(r'/u/([A-Za-z0-9_.-]+)', msg['List-Unsubscribe'] or '')
json.dump({'links': links, 'pixel': pix, 'unsub': unsub}, open('/tmp/attack28b/tokens.json', 'w'))
for t in links:
    st, h, _ = req('GET', '/t/c/' + t); print('click', st, h.get('location'))
