import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
fails=0
smug = [b'\n.\n', b'\r.\r', b'\n.\r\n', b'\r\n.\n', b'\r.\r\n', b'\r\n.\r', b'\n.\r', b'\r\n\n.\r\n', b'\r\n.\r\r\n']
second = b'MAIL FROM:<ceo@acme.test>\r\nRCPT TO:<victim@dest.test>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\nsmuggled\r\n.\r\n'
def run(name, wire, mode, pad=0):
    global fails
    before = sinkcount()
    c = start()
    c.cmd('DATA')
    writeby(c, wire, mode)
    r = c.reply(timeout=5)
    r2 = c.reply(timeout=2)
    c.close()
    msgs = newmsgs(before, wait=3)
    ok = r[0].startswith('550 5.5.2') and not msgs and r2[-1] in ('<closed>','<reset>')
    if not ok: fails += 1; print('FAIL', name, r, r2, len(msgs), [m[-200:] for m in msgs])
for i, s in enumerate(smug):
    for mode in ('whole', 'byte'):
        wire = b'Subject: x\r\n\r\nbody' + s + second + b'QUIT\r\n'
        run('s%d-%s' % (i, mode), wire, mode)
    for off in (16383, 16384, 16385, 65535, 65536):
        body = (b'b'*98 + b'\r\n') * 700
        at = off - 20
        wire = b'Subject: x\r\n\r\n' + body[:at] + b'z' + s + body[at:] + second
        run('s%d-at%d' % (i, off), wire, 'whole')
        run('s%d-cut%d' % (i, off), wire, (at + 1 + len(s)//2,))
print('fails', fails)
