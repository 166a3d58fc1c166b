import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
fails=0
def check(name, cond, *info):
    global fails
    if not cond: fails+=1; print('FAIL', name, *info)
    else: print('ok', name)
# 1. BDAT 0 LAST alone
before=sinkcount(); c=start(); c.send(b'BDAT 0 LAST\r\n'); r=c.reply(); r2=c.cmd('NOOP'); c.close()
print('bdat0last', r, r2, len(newmsgs(before, wait=3)))
# 2. content with smuggle sequences, chunk boundaries inside them
second = b'MAIL FROM:<ceo@acme.test>\r\nRCPT TO:<victim@dest.test>\r\nDATA\r\nSubject: SMUGGLED\r\n\r\nsmuggled\r\n.\r\n'
msg = b'Subject: bdat\r\nFrom: a@acme.test\r\n\r\nline\r\n.\r\n' + second + b'..\r\n.\r\nend\r\n'
for cuts in ([len(msg)], [20, 39, 40, 41, len(msg)], list(range(1, len(msg)+1))):
    before=sinkcount(); c=start(); reps=[]; last=0
    for i, cut in enumerate(cuts):
        ch = msg[last:cut]; last = cut
        c.send(b'BDAT %d%s\r\n' % (len(ch), b' LAST' if i == len(cuts)-1 else b'') + ch)
    for i in range(len(cuts)): reps.append(c.reply()[0])
    c.cmd('QUIT'); c.close()
    ms = newmsgs(before)
    got = unstuff(ms[0]) if len(ms)==1 else b''
    check('bdat-content-%d' % len(cuts), reps[-1].startswith('250') and len(ms)==1 and got.endswith(b'\r\n\r\n' + msg.split(b'\r\n\r\n',1)[1]), reps[-3:], len(ms), got[-300:])
# 3. bare LF/CR across chunk boundaries
for name, parts in [('lf-split', [b'Subject: x\r\n\r\nab\r', b'x\r\n']), ('lf', [b'Subject: x\r\n\r\nab\n', b'.\ny\r\n']), ('cr-end', [b'Subject: x\r\n\r\nab\r']), ('cr-then-dot', [b'Subject: x\r\n\r\nab\r', b'.\r', b'\r\n'])]:
    before=sinkcount(); c=start(); reps=[]
    for i, ch in enumerate(parts):
        c.send(b'BDAT %d%s\r\n' % (len(ch), b' LAST' if i == len(parts)-1 else b'') + ch)
    for i in range(len(parts)): reps.append(c.reply()[0])
    n = c.cmd('NOOP'); c.close()
    check('bdat-'+name, any(x.startswith('550 5.5.2') for x in reps) and not newmsgs(before, wait=2) and n[0].startswith('250'), reps, n)
# 4. BDAT before RCPT / before MAIL; then valid transaction on the same connection
c = C(); c.reply(); c.cmd('EHLO a.test'); c.send(b'BDAT 5\r\nMAIL FROM:<x@acme.test>\r\n'); r = c.reply()
check('bdat-before-mail', r[0].startswith('503'), r)
print(c.cmd('MAIL FROM:<a@acme.test>'), c.cmd('RSET'))
c.send(b'MAIL FROM:<a@acme.test>\r\nBDAT 3 LAST\r\nabc'); print('bdat-before-rcpt', c.reply(), c.reply()); c.close()
# 5. BDAT then DATA
c=start(); c.send(b'BDAT 14\r\nSubject: x\r\n\r\n'); r1=c.reply(); r2=c.cmd('DATA'); r3=c.cmd('BDAT 3 LAST\r\nabc'.replace('\r\nabc','')) ; c.send(b'abc'); 
print('bdat-then-data', r1, r2, r3, c.reply(timeout=2)); c.close()
# 6. more bytes than declared: extra parsed as commands (allowed); fewer: swallow the following commands
before=sinkcount(); c=start(); c.send(b'BDAT 16 LAST\r\nSubject: x\r\n\r\nhi\r\nRSET\r\n'); r=c.reply(); r2=c.reply(); c.close()
print('more-than-declared', r, r2)
c=start(); c.send(b'BDAT 40 LAST\r\nSubject: x\r\n\r\nhi\r\n'); r=c.reply(timeout=2); c.send(b'QUIT\r\nQUIT\r\nQUIT\r\nQUIT\r\nQUIT\r\nQUIT\r\n'); r2=c.reply(); c.close()
print('fewer-than-declared', r, r2)
# 7. huge declared size
c=start(); c.send(b'BDAT 999999999999999 LAST\r\nSubject: x\r\n\r\nhi\r\n'); r=c.reply(timeout=3); c.close(); print('huge', r)
c=start(); c.send(b'BDAT 9999999999999999 LAST\r\n'); r=c.reply(timeout=3); c.close(); print('huge16', r)
c=start(); c.send(b'BDAT -1 LAST\r\n'); r=c.reply(timeout=3); c.close(); print('neg', r)
c=start(); c.send(b'BDAT 1  LAST\r\n'); r=c.reply(timeout=3); c.close(); print('twospace', r)
# 8. pipelined after LAST in same segment
before=sinkcount(); c=start(); c.send(b'BDAT 21 LAST\r\nSubject: x\r\n\r\npipe\r\n\r\nMAIL FROM:<a@acme.test>\r\nRCPT TO:<c@dest.test>\r\nBDAT 0 LAST\r\nQUIT\r\n')
rs=[c.reply() for _ in range(5)]; c.close(); print('pipelined', rs, len(newmsgs(before,wait=3,want=2)))
print('fails', fails)
