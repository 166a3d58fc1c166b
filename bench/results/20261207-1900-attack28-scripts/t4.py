import sys, ssl; sys.path.insert(0,'/tmp/attack28')
from h import *
ctx = ssl.create_default_context(); ctx.check_hostname=False; ctx.verify_mode=ssl.CERT_NONE
# STARTTLS injection on submission (port 42001, but from a non-relay address so that AUTH state matters): use 127.0.0.1? we stay in our range: relayNetworks covers all; injection test is about commands being processed post-TLS
before = sinkcount()
c = C(); c.reply(); c.cmd('EHLO a.test')
c.send(b'STARTTLS\r\nMAIL FROM:<inj@acme.test>\r\nRCPT TO:<inj@dest.test>\r\n')
r = c.reply(); print('starttls', r)
t = ctx.wrap_socket(c.s, server_hostname='relay.test'); c.s = t; c.buf=b''
print('after tls EHLO', c.cmd('EHLO a.test')[-1])
print('RCPT without MAIL (injected MAIL must be gone):', c.cmd('RCPT TO:<x@dest.test>'))
c.close()
# STARTTLS injection with bytes in a separate segment sent just after STARTTLS (before 220 read)
c = C(); c.reply(); c.cmd('EHLO a.test'); c.send(b'STARTTLS\r\n'); c.send(b'MAIL FROM:<inj@acme.test>\r\n')
r = c.reply(); print('starttls2', r)
try:
    t = ctx.wrap_socket(c.s, server_hostname='relay.test'); c.s=t; c.buf=b''; print('tls2 ehlo', c.cmd('EHLO a.test')[-1], c.cmd('RCPT TO:<x@dest.test>'))
except Exception as e: print('tls2 handshake failed (fine):', e)
c.close()
# pipelining before greeting
c = C(); c.send(b'EHLO a.test\r\nMAIL FROM:<a@acme.test>\r\nRCPT TO:<b@dest.test>\r\nRSET\r\nMAIL FROM:<a@acme.test>\r\nRCPT TO:<b@dest.test>\r\nDATA\r\nSubject: pre\r\n\r\nx\r\n.\r\nQUIT\r\n')
rs=[]; 
for _ in range(9): rs.append(c.reply(timeout=3)[-1])
print('pregreeting', rs); c.close()
# command line too long / long line handling then usable
c = C(); c.reply(); c.cmd('EHLO a.test')
print('long cmd', c.cmd('MAIL FROM:<' + 'a'*600 + '@acme.test>'), c.cmd('NOOP'))
c.send(b'NOOP ' + b'x'*5000 + b'\r\nNOOP\r\n'); print('very long', c.reply(), c.reply())
c.send(b'NOOP ' + b'x'*3000); time.sleep(0.2); c.send(b'x'*100000 + b'\r\nNOOP\r\n'); print('very long2', c.reply(), c.reply())
c.close()
