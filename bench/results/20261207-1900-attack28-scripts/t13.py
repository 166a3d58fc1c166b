import sys; sys.path.insert(0,'/tmp/attack28')
from h import *
# RSET between chunks, then a fresh transaction in the same segment
before = sinkcount(); c = start()
c.send(b'BDAT 12\r\nSubject: A\r\n' + b'RSET\r\nBDAT 3 LAST\r\nxyz' + b'MAIL FROM:<a@acme.test>\r\nRCPT TO:<bob@dest.test>\r\nBDAT 17 LAST\r\nSubject: B\r\n\r\nb\r\n')
rs = [c.reply()[0] for _ in range(6)]; c.close()
ms = newmsgs(before, wait=4)
print('rset-mid-bdat', rs, len(ms), [unstuff(m)[-40:] for m in ms])
# connection dropped mid-chunk / mid-DATA: nothing delivered
before = sinkcount(); c = start(); c.send(b'BDAT 100 LAST\r\nSubject: C\r\n\r\npartial'); time.sleep(0.3); c.close()
c = start(); c.cmd('DATA'); c.send(b'Subject: D\r\n\r\npartial\r\n'); time.sleep(0.3); c.s.shutdown(socket.SHUT_WR); print('eof mid data', c.reply(timeout=3)); c.close()
c = start(); c.cmd('DATA'); c.send(b'Subject: E\r\n\r\nfull\r\n.\r\n'); c.s.shutdown(socket.SHUT_WR); print('eof after dot', c.reply(timeout=3)); c.close()
ms = newmsgs(before, wait=4)
print('after drops delivered', len(ms), [unstuff(m)[-30:] for m in ms])
# DATA after failed BDAT, then RSET then DATA
before = sinkcount(); c = start(); c.send(b'BDAT 4\r\na\nb\r'); r1 = c.reply(); r2 = c.cmd('DATA'); r3 = c.cmd('RSET'); c.cmd('MAIL FROM:<a@acme.test>'); c.cmd('RCPT TO:<bob@dest.test>'); c.cmd('DATA'); c.send(b'Subject: F\r\n\r\nf\r\n.\r\n'); r4 = c.reply(); c.close()
print('bdat-fail-then-data', r1, r2, r3, r4, len(newmsgs(before, wait=4)))
