import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
def data(wire):
    c = start(); c.cmd('DATA'); c.send(wire); r = c.reply(); r2 = c.cmd('NOOP'); c.close(); return r[0], r2[0]
def bdat(m):
    c = start(); c.send(b'BDAT %d LAST\r\n' % len(m) + m); r = c.reply(); r2 = c.cmd('NOOP'); c.close(); return r[0], r2[0]
H = b'Subject: l\r\n\r\n'
for n in (998, 999):
    print('data line', n, data(H + b'a'*n + b'\r\n.\r\n'))
    print('data dotline', n, data(H + b'.' + b'.'*n + b'\r\n.\r\n'))  # wire: stuffed dot + n dots => n octets
    print('bdat line', n, bdat(H + b'a'*n + b'\r\n'))
    print('bdat last line no crlf', n, bdat(H + b'a'*n))
    print('header line', n, data(b'X-A: ' + b'a'*(n-5) + b'\r\n\r\nx\r\n.\r\n'))
    # long line straddling a 16 KiB piece boundary
    pre = (b'b'*98 + b'\r\n') * 163 + b'c'*(16384 - 16300 - len(H) - 500)
    print('data straddle', n, data(H + pre[:-0 or None] + b'\r\n' + b'd'*n + b'\r\n.\r\n'))
big_hdr = b''.join(b'X-H%d: ' % i + b'v'*900 + b'\r\n' for i in range(1200))
print('header > 1MB', data(big_hdr + b'\r\nbody\r\n.\r\n'))
print('header > 1MB bdat', bdat(big_hdr + b'\r\nbody\r\n'))
print('only header no body', data(b'Subject: x\r\n.\r\n'), data(b'.\r\n'))
