import sys, ssl; sys.path.insert(0,'/tmp/attack28')
from h import *
ctx = ssl.create_default_context(); ctx.check_hostname=False; ctx.verify_mode=ssl.CERT_NONE
smug = [b'\n.\n', b'\r.\r', b'\n.\r\n', b'\r\n.\n', b'\r.\r\n']
second = b'MAIL FROM:<ceo@acme.test>\r\nRCPT TO:<victim@dest.test>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\nsmuggled\r\n.\r\n'
fails = 0
for s in smug:
    for mode in ('whole', 'byte'):
        before = sinkcount()
        c = C(); c.reply(); c.cmd('EHLO a'); c.cmd('STARTTLS'); c.s = ctx.wrap_socket(c.s, server_hostname='relay.test'); c.buf = b''
        c.cmd('EHLO a'); c.cmd('MAIL FROM:<a@acme.test>'); c.cmd('RCPT TO:<bob@dest.test>'); c.cmd('DATA')
        writeby(c, b'Subject: x\r\n\r\nbody' + s + second, mode)
        r = c.reply(timeout=5); c.close()
        ms = newmsgs(before, wait=2)
        if not r[0].startswith('550 5.5.2') or ms: fails += 1; print('FAIL', s, mode, r, len(ms))
print('tls fails', fails)
