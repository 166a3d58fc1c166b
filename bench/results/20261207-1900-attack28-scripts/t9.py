import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
fails = 0
def stuff(m): return b'\r\n'.join((b'.'+l if l.startswith(b'.') else l) for l in m.split(b'\r\n'))
for total in (300*1024, 1024*1024):
  for shift in range(-6, 7, 2):
    for via in ('data', 'bdat'):
        hdr = b'Subject: big %d %d\r\nFrom: a@acme.test\r\n\r\n' % (total, shift)
        # body with dot lines around every 64 KiB boundary of the stored body (header excluded: stored body = whole data incl. header?)
        body = bytearray()
        k = 1
        while len(body) < total:
            target = k * 65536 + shift - len(hdr)
            while len(body) + 100 < target: body += b'p' * 98 + b'\r\n'
            pad = target - len(body)
            if pad >= 2: body += b'q' * (pad - 2) + b'\r\n'
            body += b'.\r\n..\r\n.x\r\n\r\n.\r\n'
            k += 1
        m = hdr + bytes(body)
        before = sinkcount(); c = start()
        if via == 'data': c.cmd('DATA'); c.send(stuff(m) + b'.\r\n')
        else:
            half = 65536 + shift
            c.send(b'BDAT %d\r\n' % half + m[:half]); c.reply()
            c.send(b'BDAT %d LAST\r\n' % (len(m) - half) + m[half:])
        r = c.reply(); c.cmd('QUIT'); c.close()
        ms = newmsgs(before, wait=10)
        ok = r[0].startswith('250') and len(ms) == 1
        if ok:
            got = unstuff(ms[0]); ok = got.endswith(m[len(hdr)-2:] if False else bytes(body)) and b'Subject: big' in got
        if not ok: fails += 1; print('FAIL', total, shift, via, r, len(ms))
print('fails', fails)
