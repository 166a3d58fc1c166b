# attack28b: hostile reports to the MX listener (127.0.84.1:44003): deep multipart nesting, many parts,
# a delivery-status part buried deep, huge header; checks the relay answers and stays up.
import socket, time, sys
def smtp(raw, rcpt='postmaster@local.test', mailfrom=''):
    s = socket.create_connection(('127.0.84.1', 44003), timeout=60); f = s.makefile('rb')
    def cmd(c):
        if c: s.sendall(c + b'\r\n')
        line = f.readline(); out = line
        while line[3:4] == b'-': line = f.readline(); out += line
        return out
    cmd(None); cmd(b'EHLO t'); cmd(b'MAIL FROM:<%s>' % mailfrom.encode()); r = cmd(b'RCPT TO:<%s>' % rcpt.encode())
    if not r.startswith(b'250'): return r
    cmd(b'DATA'); t = time.time(); s.sendall(raw.replace(b'\r\n.', b'\r\n..') + b'\r\n.\r\n'); r = cmd(None); cmd(b'QUIT'); s.close()
    return r.strip() + b' (%.2fs)' % (time.time() - t)
def deep(n):
    head = b''.join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(n))
    core = b'Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b.c\r\nAction: failed\r\nStatus: 5.1.1\r\n'
    tail = b''.join(b'\r\n--b%d--\r\n' % i for i in reversed(range(n)))
    return b'From: MAILER-DAEMON@x.test\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n' + head + core + tail
def wide(n):
    parts = b''.join(b'--w\r\nContent-Type: text/plain\r\n\r\nx\r\n' for _ in range(n))
    return b'From: MAILER-DAEMON@x.test\r\nSubject: wide\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="w"\r\n\r\n' + parts + b'--w--\r\n'
for name, raw in [('deep 100', deep(100)), ('deep 3000', deep(3000)), ('deep 9000 (~500KB)', deep(9000)), ('wide 20000', wide(20000)),
                  ('header 900KB', b'X-A: ' + b'a' * 900 + (b'\r\n b' * 900) + b'\r\nSubject: h\r\n\r\nbody\r\n')]:
    print(name, len(raw), smtp(raw))
