import socket, time, os, glob, json, re
HOST='127.0.82.1'; SUB=42001; MX=42003
SINK='/tmp/attack28/sinkdir'
class C:
    def __init__(s, port=SUB, src=None):
        s.s = socket.create_connection((HOST, port), timeout=10, source_address=(src or '127.0.82.2', 0))
        s.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.buf=b''
    def send(s, b, pause=0):
        s.s.sendall(b)
        if pause: time.sleep(pause)
    def reply(s, timeout=10):
        s.s.settimeout(timeout); lines=[]
        while True:
            while b'\n' not in s.buf:
                try: d = s.s.recv(65536)
                except socket.timeout: return lines + ['<timeout>']
                except ConnectionResetError: return lines + ['<reset>']
                if not d: return lines + ['<closed>']
                s.buf += d
            i = s.buf.index(b'\n'); l = s.buf[:i+1]; s.buf = s.buf[i+1:]
            lines.append(l.decode('latin1').rstrip('\r\n'))
            if l[3:4] == b' ': return lines
    def cmd(s, line):
        s.send(line.encode('latin1') + b'\r\n' if isinstance(line, str) else line + b'\r\n'); return s.reply()
    def close(s):
        try: s.s.close()
        except: pass
def start(port=SUB, frm='a@acme.test', rcpts=('bob@dest.test',)):
    c = C(port); g = c.reply(); e = c.cmd('EHLO attack.test'); m = c.cmd('MAIL FROM:<%s>' % frm)
    for r in rcpts: c.cmd('RCPT TO:<%s>' % r)
    return c
def sinkcount(): return len(glob.glob(SINK + '/*.raw'))
def newmsgs(before, wait=6, want=1):
    t = time.time()
    while time.time() - t < wait:
        n = sinkcount()
        if n >= before + want: time.sleep(0.5); break
        time.sleep(0.1)
    n = sinkcount()
    return [open('%s/%d.raw' % (SINK, i), 'rb').read() for i in range(before+1, n+1)]
def unstuff(raw):
    assert raw.endswith(b'\r\n.\r\n') or raw == b'.\r\n', raw[-20:]
    body = raw[:-3]
    lines = body.split(b'\r\n')
    for l in lines[:-1]:
        assert l != b'.', 'lone dot inside wire data'
    # no bare CR / LF
    assert not re.search(rb'\r(?!\n)|(?<!\r)\n', body), 'bare CR/LF on the wire'
    return b'\r\n'.join(l[1:] if l.startswith(b'.') else l for l in lines)
def writeby(c, data, mode):
    if mode == 'whole': c.send(data)
    elif mode == 'byte':
        for i in range(len(data)): c.send(data[i:i+1])
    elif isinstance(mode, tuple):
        last = 0
        for cut in mode:
            c.send(data[last:cut]); time.sleep(0.03); last = cut
        c.send(data[last:])
