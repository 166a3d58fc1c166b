import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
import random
def stuff(body): 
    return b'\r\n'.join((b'.'+l if l.startswith(b'.') else l) for l in body.split(b'\r\n'))
def mkbody(n, seed):
    r = random.Random(seed); lines=[]; size=0
    while size < n:
        k = r.choice(['plain','dot','dots','empty','long'])
        l = {'plain': b'line %d text' % size, 'dot': b'.', 'dots': b'..x', 'empty': b'', 'long': b'y'*r.randint(100,990)}[k]
        lines.append(l); size += len(l)+2
    return b'\r\n'.join(lines) + b'\r\n'
fails=0
def run(name, body, mode, expect='250'):
    global fails
    before = sinkcount()
    c = start()
    r = c.cmd('DATA')
    hdr = b'Subject: %s\r\nFrom: a@acme.test\r\n\r\n' % name.encode()
    wire = stuff(hdr + body) + b'.\r\n'
    # place a chosen offset relative to the DATA stream
    writeby(c, wire, mode)
    r = c.reply(); c.cmd('QUIT'); c.close()
    if not r[0].startswith(expect): print('FAIL reply', name, r); fails+=1; return
    if expect != '250': return
    msgs = newmsgs(before)
    if len(msgs) != 1: print('FAIL count', name, len(msgs)); fails+=1; return
    got = unstuff(msgs[0])
    if not got.endswith(hdr[:-4] + b'\r\n\r\n' + body) and not got.endswith(b'\r\n\r\n' + body):
        print('FAIL body', name, len(got)); fails+=1; open('/tmp/attack28/fail-%s' % name,'wb').write(got); return
    print('ok', name, len(wire))
b = mkbody(3000, 1)
run('byte', b, 'byte')
run('byte2', b'.\r\n..\r\n.\r\n', 'byte')
for size in (70000,):
    b = mkbody(size, 2)
    for cut in (16383,16384,16385,16386,65535,65536,65537):
        run('cut%d' % cut, b, (cut,))
# dot line exactly at piece boundaries: construct so "\r\n.." or "\r\n.\r\n" straddles 16384
for off in range(16370, 16400, 1):
    pre = b'x'*(off-50) 
    hdrlen = len(b'Subject: dotat%d\r\nFrom: a@acme.test\r\n\r\n' % off)
    fill = off - hdrlen
    body = (b'b'*98 + b'\r\n') * (fill // 100) + b'c'*(fill % 100) + b'\r\n.\r\n..\r\n.z\r\nend\r\n' + b'c'*50 + b'\r\n'
    run('dotat%d' % off, body, 'whole')
for off in range(65520, 65545, 3):
    body = (b'q'*900 + b'\r\n') * (off // 902) + b'\r\n.\r\n.\r\n' + b'r'*20 + b'\r\n'
    run('dot64k%d' % off, body, (off,))
print('fails', fails)
