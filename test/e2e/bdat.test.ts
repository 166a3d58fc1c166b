// BDAT end to end with an independent client: Python's smtplib has no BDAT (nor does swaks), so
// /usr/bin/python3 speaks the raw dialogue over a socket (STARTTLS with its ssl module, AUTH PLAIN,
// BDAT chunks cut inside a CRLF and between header and body, then BDAT 0 LAST) to the built relay
// process. The same message also goes in by DATA (smtplib). Both arrive at the test MX (which
// offers no CHUNKING: the relay sends on by DATA) with the same content — the lone-dot and
// command-like lines intact, so the dot-stuffing on the way out is right — and both DKIM
// signatures of each verify with python3-dkim.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { eventually } from '../helpers/relay-process.js';
import { ALICE, startMailRig } from '../helpers/relay-rig.js';
import { PYTHON, pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';

const skip = await skipUnless(TOOLS.python3, TOOLS.pythonDkim);
const PASSWORD = ALICE.pass;

/** argv: port, password, JSON list of chunks (text, sent as UTF-8), mode "bdat" | "data". Prints the replies as JSON. */
const CLIENT = `
import base64, json, smtplib, socket, ssl, sys
port, password, chunks, mode = int(sys.argv[1]), sys.argv[2], [c.encode() for c in json.loads(sys.argv[3])], sys.argv[4]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
if mode == 'data':
    s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.test'); s.starttls(context=ctx); s.ehlo('py.test'); s.login('alice', password)
    s.sendmail('alice@acme.test', ['bob@dest.test'], b''.join(chunks), mail_options=['BODY=8BITMIME']); s.quit()
    print(json.dumps({})); sys.exit(0)
sock = socket.create_connection(('127.0.0.1', port)); f = sock.makefile('rb')
def reply():
    lines = []
    while True:
        line = f.readline()
        if not line: sys.exit('connection closed after %r' % lines)
        lines.append(line.decode().rstrip('\\r\\n'))
        if line[3:4] == b' ': return lines
def cmd(line):
    sock.sendall(line.encode() + b'\\r\\n'); return reply()
reply(); cmd('EHLO py.test')
assert cmd('STARTTLS')[0].startswith('220')
sock = ctx.wrap_socket(sock, server_hostname='relay.test'); f = sock.makefile('rb')
ehlo = cmd('EHLO py.test')
assert cmd('AUTH PLAIN ' + base64.b64encode(b'\\0alice\\0' + password.encode()).decode())[0].startswith('235')
assert cmd('MAIL FROM:<alice@acme.test> BODY=8BITMIME')[0].startswith('250')
assert cmd('RCPT TO:<bob@dest.test>')[0].startswith('250')
replies = []
for i, c in enumerate(chunks):
    sock.sendall(b'BDAT %d%s\\r\\n' % (len(c), b' LAST' if i == len(chunks) - 1 else b'') + c)
    replies.append(reply()[0])
cmd('QUIT')
print(json.dumps({'ehlo': ehlo, 'replies': replies}))
`;

function python(port: number, chunks: string[], mode: 'bdat' | 'data'): Promise<{ ehlo?: string[]; replies?: string[] }> {
  return new Promise((resolve, reject) => execFile(PYTHON, ['-c', CLIENT, String(port), PASSWORD, JSON.stringify(chunks), mode], { timeout: 30_000 },
    (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)))));
}

test('a message sent by BDAT (raw Python client) is delivered intact and DKIM-verifies, like the same by DATA', { skip }, async (t) => {
  const { dns, mx, relay } = await startMailRig(t, { provision: (r) => r.relay.addSigningDomain(r.dns, 'acme.test') });

  const body = 'first line\r\n.\r\n..two leading dots\r\nQUIT\r\n.\r\nMAIL FROM:<ceo@acme.test>\r\nlast line, 8-bit: é\r\n';
  const message = (how: string) => `From: Alice <alice@acme.test>\r\nTo: bob@dest.test\r\nSubject: by ${how}\r\n` +
    `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}`;
  const m = message('BDAT');
  const cut1 = m.indexOf('\r\n') + 1; // inside the first CRLF
  const cut2 = m.indexOf('\r\n\r\n') + 3; // inside the header/body break
  const sent = await python(relay.port('submission'), [m.slice(0, cut1), m.slice(cut1, cut2), m.slice(cut2), ''], 'bdat');
  assert.ok(sent.ehlo!.includes('250-CHUNKING') || sent.ehlo!.includes('250 CHUNKING'), JSON.stringify(sent.ehlo));
  assert.ok(!sent.ehlo!.some((l) => l.includes('BINARYMIME')));
  const octets = [cut1, cut2 - cut1, Buffer.byteLength(m.slice(cut2))];
  assert.deepEqual(sent.replies!.slice(0, 3), octets.map((n) => `250 2.0.0 Ok: ${n} octets`));
  assert.match(sent.replies![3]!, /^250 2\.0\.0 Ok: queued as [0-9A-Z]{20}$/);
  await python(relay.port('submission'), [message('DATA')], 'data');

  const byBdat = await eventually(() => mx.messages.find((x) => x.body.includes('Subject: by BDAT')));
  const byData = await eventually(() => mx.messages.find((x) => x.body.includes('Subject: by DATA')));
  for (const got of [byBdat, byData]) {
    const text = got.body.toString('utf8');
    assert.ok(text.endsWith(`\r\n\r\n${body}`), JSON.stringify(text.slice(-200)));
    assert.match(text, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=acme\.test;/);
    assert.deepEqual(got.rcptTo, ['bob@dest.test']);
    assert.deepEqual(await pythonVerify(dns.port, got.body, 2), ['pass', 'pass'], 'python3-dkim verifies both signatures');
  }
});
