import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
LIM = 100*1024
def body_of(n):
    hdr = b'Subject: size\r\n\r\n'
    n -= len(hdr)
    lines = (b'z'*98 + b'\r\n') * (n // 100)
    rest = n - len(lines)
    tail = (b'w'*(rest-2) + b'\r\n') if rest >= 2 else b''
    m = hdr + lines + tail
    return m
for n in (LIM-1, LIM, LIM+1, LIM+100, 3*LIM):
    m = body_of(n); 
    for via in ('data', 'bdat'):
        before=sinkcount(); c=start()
        if via=='data':
            c.cmd('DATA'); c.send(m + b'.\r\n'); r = c.reply()
        else:
            c.send(b'BDAT %d LAST\r\n' % len(m) + m); r = c.reply()
        r2 = c.cmd('RSET'); r3 = c.cmd('MAIL FROM:<a@acme.test>'); c.close()
        ms = newmsgs(before, wait=3)
        print(via, len(m), n - LIM, r, r2[0], r3[0], 'delivered', len(ms))
# SIZE param
c = C(); c.reply(); c.cmd('EHLO a')
for p in ('SIZE=%d' % LIM, 'SIZE=%d' % (LIM+1), 'SIZE=99999999999999999999999', 'SIZE=-1', 'SIZE=', 'SIZE=1e5', 'BODY=8BITMIME', 'BODY=BINARYMIME', 'BODY=7BIT SIZE=10', 'FOO=bar', 'SMTPUTF8', 'SIZE=1 SIZE=2', 'RET=HDRS ENVID=x+2Bz', 'AUTH=<>', 'size=10'):
    print(p, c.cmd('MAIL FROM:<a@acme.test> ' + p), c.cmd('RSET')[0])
c.close()
