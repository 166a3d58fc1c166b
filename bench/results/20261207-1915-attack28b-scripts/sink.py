# Raw SMTP sink: records the exact DATA wire bytes (stuffed) per message into DIR/N.raw and envelope into N.env
import socket, sys, threading, os, json
host, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(d, exist_ok=True)
cnt = [0]; lock = threading.Lock()
def handle(c):
    f = c.makefile('rb')
    def say(s): c.sendall(s.encode() + b'\r\n')
    say('220 sink.test ESMTP')
    env = {'from': None, 'rcpt': [], 'cmds': []}
    while True:
        line = f.readline()
        if not line: return
        env['cmds'].append(line.decode('latin1'))
        u = line.upper()
        if u.startswith(b'EHLO'): c.sendall(b'250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100000000\r\n')
        elif u.startswith(b'HELO'): say('250 sink.test')
        elif u.startswith(b'MAIL'): env['from'] = line.decode('latin1').strip(); env['rcpt'] = []; say('250 ok')
        elif u.startswith(b'RCPT'): env['rcpt'].append(line.decode('latin1').strip()); say('250 ok')
        elif u.startswith(b'DATA'):
            say('354 go')
            raw = b''
            while not raw.endswith(b'\r\n.\r\n') and raw != b'.\r\n':
                l = f.readline()
                if not l: return
                raw += l
            with lock:
                cnt[0] += 1; n = cnt[0]
            open(os.path.join(d, '%d.raw' % n), 'wb').write(raw)
            open(os.path.join(d, '%d.env' % n), 'w').write(json.dumps(env))
            say('250 ok %d' % n)
        elif u.startswith(b'RSET'): say('250 ok')
        elif u.startswith(b'QUIT'): say('221 bye'); c.close(); return
        else: say('250 ok')
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((host, port)); s.listen(50)
while True:
    c, _ = s.accept(); threading.Thread(target=handle, args=(c,), daemon=True).start()
