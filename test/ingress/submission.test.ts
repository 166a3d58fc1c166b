// Submission over real sockets: STARTTLS + AUTH + DATA into the real SQLite queue, implicit TLS,
// pipelining, the TLS and AUTH requirements, STARTTLS command injection, and per-command limits.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type tls from 'node:tls';
import { Client, USERS, b64, startHarness, type Harness } from './harness.js';

const NOW = Date.UTC(2025, 6, 1, 12, 3, 4);
let h: Harness;
before(async () => { h = await startHarness({ 'limits.maxRecipients': 3 }, { clock: { now: () => NOW } }); });
after(async () => { await h.close(); });

const queuedId = (reply: string) => /^250 2\.0\.0 Ok: queued as ([0-9A-Z]{20})\r\n$/.exec(reply)?.[1];

test('STARTTLS + AUTH PLAIN + DATA: the exact stored body, envelope and origin', async () => {
  const c = await Client.connect(h.port('submission'));
  assert.equal(await c.read(), '220 relay.test Postlane ESMTP\r\n');
  assert.equal(await c.cmd('EHLO client.test'), '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n' +
    '250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250 STARTTLS\r\n');
  assert.equal(await c.cmd('STARTTLS'), '220 2.0.0 Ready to start TLS\r\n');
  await c.upgrade();
  assert.equal(await c.cmd('EHLO client.test'), '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n' +
    '250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250-AUTH PLAIN LOGIN\r\n250 REQUIRETLS\r\n');
  assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '235 2.7.0 Authentication successful\r\n');
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com> SIZE=120'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<bob@dest.example>'), '250 2.1.5 Ok\r\n');
  assert.equal(await c.cmd('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
  const headers = 'From: Alice <alice@example.com>\r\nTo: bob@dest.example\r\nSubject: hello\r\n';
  c.write(`${headers}\r\nHi Bob,\r\n..a line starting with a dot\r\n.\r\n`);
  const id = queuedId(await c.read());
  assert.ok(id, 'queued');
  const sock = c.socket as tls.TLSSocket;
  const [protocol, cipher] = [sock.getProtocol(), sock.getCipher().name];
  assert.equal(await c.cmd('QUIT'), '221 2.0.0 Bye\r\n');

  const received = 'Received: from client.test ([127.0.0.1])\r\n' +
    `\tby relay.test (Postlane) with ESMTPSA id ${id}\r\n` +
    `\t(using ${protocol} with cipher ${cipher});\r\n` +
    '\tTue, 01 Jul 2025 12:03:04 +0000\r\n';
  assert.equal(await h.body(id!), received + headers + `Message-ID: <${id}@relay.test>\r\n` +
    'Date: Tue, 01 Jul 2025 12:03:04 +0000\r\n\r\nHi Bob,\r\n.a line starting with a dot\r\n');
  const m = await h.store.getMessage(id!);
  assert.equal(m?.mailFrom, 'alice@example.com');
  assert.deepEqual(m?.recipients.map((r) => [r.address, r.state]), [['bob@dest.example', 'queued']]);
  assert.deepEqual(m?.origin, { listener: 'submission', clientIp: '127.0.0.1', user: 'alice', helo: 'client.test' });
  assert.equal(m?.route, 'relay');
  assert.equal(m?.size, Buffer.byteLength(await h.body(id!)));
  const { level: _l, time: _t, pid: _p, hostname: _h, msg: _m, ...accepted } = h.logs.find((l) => l.event === 'smtp.accepted' && l.id === id)!;
  assert.deepEqual(accepted, {
    event: 'smtp.accepted', id, from: 'alice@example.com', rcpts: ['bob@dest.example'], size: m?.size,
    listener: 'submission', user: 'alice', ip: '127.0.0.1', tls: protocol,
  });
});

test('AUTH LOGIN (with a UTF-8 password); logs never contain passwords or AUTH payloads', async () => {
  const c = await Client.ready(h.port('submission'), 'starttls');
  assert.equal(await c.cmd('AUTH LOGIN'), '334 VXNlcm5hbWU6\r\n');
  assert.equal(await c.cmd(b64('bob')), '334 UGFzc3dvcmQ6\r\n');
  assert.equal(await c.cmd(b64(USERS.get('bob')!)), '235 2.7.0 Authentication successful\r\n');
  assert.equal(await c.cmd('MAIL FROM:<bob@example.com>'), '250 2.1.0 Ok\r\n');
  c.end();
  const text = JSON.stringify(h.logs);
  for (const secret of ['secret', USERS.get('bob')!, b64(USERS.get('bob')!), b64('\0alice\0secret')]) assert.ok(!text.includes(secret), secret);
});

test('implicit TLS on submissions: TLS from the first byte, AUTH required and offered', async () => {
  const c = await Client.connect(h.port('submissions'), { tls: true });
  assert.equal(await c.read(), '220 relay.test Postlane ESMTP\r\n');
  assert.equal(await c.cmd('EHLO client.test'), '250-relay.test\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n250-8BITMIME\r\n' +
    '250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-DSN\r\n250-AUTH PLAIN LOGIN\r\n250 REQUIRETLS\r\n');
  assert.equal(await c.cmd('STARTTLS'), '503 5.5.1 TLS already active\r\n');
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '530 5.7.0 Authentication required\r\n');
  assert.equal(await c.cmd('AUTH PLAIN'), '334 \r\n');
  assert.equal(await c.cmd(b64('\0alice\0secret')), '235 2.7.0 Authentication successful\r\n');
  await c.cmd('MAIL FROM:<alice@example.com>');
  await c.cmd('RCPT TO:<carol@dest.example>');
  await c.cmd('DATA');
  c.write('Subject: implicit\r\n\r\nx\r\n.\r\n');
  const id = queuedId(await c.read());
  assert.match(await h.body(id!), /with ESMTPSA id/);
  assert.deepEqual((await h.store.getMessage(id!))?.origin, { listener: 'submissions', clientIp: '127.0.0.1', user: 'alice', helo: 'client.test' });
  c.end();
});

test('a plaintext client on the implicit-TLS port gets nothing and is dropped', async () => {
  const c = await Client.connect(h.port('submissions'));
  c.send('EHLO client.test');
  assert.equal(await c.isClosedWithin(3000), true);
  assert.equal(c.unread.startsWith('220'), false);
});

test('pipelining: replies in order, DATA bytes right behind the commands', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  c.write('MAIL FROM:<alice@example.com>\r\nRCPT TO:<d1@dest.example>\r\nRCPT TO:<d2@dest.example>\r\nDATA\r\n');
  assert.equal(await c.read(), '250 2.1.0 Ok\r\n');
  assert.equal(await c.read(), '250 2.1.5 Ok\r\n');
  assert.equal(await c.read(), '250 2.1.5 Ok\r\n');
  assert.equal(await c.read(), '354 End data with <CR><LF>.<CR><LF>\r\n');
  c.write('Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<d3@dest.example>\r\nDATA\r\nSubject: two\r\n\r\nsecond\r\n.\r\nQUIT\r\n');
  const first = queuedId(await c.read());
  assert.equal(await c.read(), '250 2.1.0 Ok\r\n');
  assert.equal(await c.read(), '250 2.1.5 Ok\r\n');
  assert.equal(await c.read(), '354 End data with <CR><LF>.<CR><LF>\r\n');
  const second = queuedId(await c.read());
  assert.equal(await c.read(), '221 2.0.0 Bye\r\n');
  assert.ok(first && second && first !== second);
  assert.match(await h.body(first!), /Subject: one\r\n.*\r\n\r\nfirst\r\n$/s);
  assert.match(await h.body(second!), /Subject: two\r\n.*\r\n\r\nsecond\r\n$/s);
  assert.deepEqual((await h.store.getMessage(first!))?.recipients.map((r) => r.address), ['d1@dest.example', 'd2@dest.example']);
  assert.equal(await c.isClosedWithin(), true);
});

test('no AUTH before TLS: not advertised, and 538 5.7.11 if tried', async () => {
  const c = await Client.connect(h.port('submission'));
  await c.read();
  assert.ok(!(await c.cmd('EHLO client.test')).includes('AUTH'), 'AUTH is not advertised before TLS');
  assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '538 5.7.11 Encryption required for requested authentication mechanism\r\n');
  assert.equal(await c.cmd('AUTH LOGIN'), '538 5.7.11 Encryption required for requested authentication mechanism\r\n');
  c.end();
});

test('MAIL without AUTH: 530 5.7.0, before and after TLS', async () => {
  const plain = await Client.ready(h.port('submission'), 'plain');
  assert.equal(await plain.cmd('MAIL FROM:<alice@example.com>'), '530 5.7.0 Must issue a STARTTLS command first\r\n');
  plain.end();
  const c = await Client.ready(h.port('submission'), 'starttls');
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '530 5.7.0 Authentication required\r\n');
  assert.equal(await c.cmd('RCPT TO:<bob@dest.example>'), '503 5.5.1 Need MAIL command\r\n');
  c.end();
});

test('STARTTLS command injection: commands pipelined after STARTTLS are discarded', async () => {
  const c = await Client.connect(h.port('submission'));
  await c.read();
  await c.cmd('EHLO client.test');
  c.write('STARTTLS\r\nMAIL FROM:<a@b.example>\r\n');
  assert.equal(await c.read(), '220 2.0.0 Ready to start TLS\r\n');
  await c.upgrade();
  // the first reply over TLS answers our first command over TLS: nothing injected was processed
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '503 Send HELO/EHLO first\r\n');
  assert.match(await c.cmd('EHLO client.test'), /^250-relay\.test\r\n/);
  assert.equal(await c.cmd(`AUTH PLAIN ${b64('\0alice\0secret')}`), '235 2.7.0 Authentication successful\r\n');
  assert.equal(await c.cmd('RCPT TO:<bob@dest.example>'), '503 5.5.1 Need MAIL command\r\n');
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
  assert.equal(c.unread, '');
  c.end();
});

test('too many recipients: 452 4.5.3; the accepted ones are stored', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  await c.cmd('MAIL FROM:<alice@example.com>');
  for (const n of [1, 2, 3]) assert.equal(await c.cmd(`RCPT TO:<r${n}@dest.example>`), '250 2.1.5 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<r4@dest.example>'), '452 4.5.3 Too many recipients\r\n');
  await c.cmd('DATA');
  c.write('Subject: three\r\n\r\n.\r\n');
  const id = queuedId(await c.read());
  assert.deepEqual((await h.store.getMessage(id!))?.recipients.map((r) => r.address), ['r1@dest.example', 'r2@dest.example', 'r3@dest.example']);
  c.end();
});

test('long command lines: 500 5.5.2, the rest of the line is not run as a command', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  assert.equal(await c.cmd('NOOP ' + 'x'.repeat(600)), '500 5.5.2 Line too long\r\n');
  assert.equal(await c.cmd('x'.repeat(5000) + 'QUIT'), '500 5.5.2 Line too long\r\n');
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n', 'the session goes on');
  c.end();
});

test('NUL bytes in a command: 500 5.5.2', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  assert.equal(await c.cmd('MAIL FROM:<alice@exa\0mple.com>'), '500 5.5.2 NUL bytes are not allowed\r\n');
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
  c.end();
});

test('malformed addresses and parameters', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  assert.equal(await c.cmd('MAIL FROM:alice@example.com'), '501 5.1.7 Bad sender address syntax\r\n');
  assert.equal(await c.cmd('MAIL FROM:<alice@@example.com>'), '501 5.1.7 Bad sender address syntax\r\n');
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com> FOO=1'), '555 5.5.4 Unsupported parameter\r\n');
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com> SIZE=99999999999'), '552 5.3.4 Message too big\r\n');
  assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<>'), '501 5.1.3 Bad recipient address syntax\r\n');
  assert.equal(await c.cmd('RCPT TO:<a b@dest.example>'), '501 5.1.3 Bad recipient address syntax\r\n');
  assert.equal(await c.cmd('RCPT TO:<josé@dest.example>'), '553 5.6.7 Non-ASCII address requires SMTPUTF8\r\n');
  assert.equal(await c.cmd(`RCPT TO:<${'a'.repeat(300)}@dest.example>`), '501 5.1.3 Bad recipient address syntax\r\n');
  assert.equal(await c.cmd('RCPT TO:<ok@DEST.Example>'), '250 2.1.5 Ok\r\n');
  await c.cmd('DATA');
  c.write('\r\n.\r\n');
  const id = queuedId(await c.read());
  assert.deepEqual((await h.store.getMessage(id!))?.recipients.map((r) => r.address), ['ok@dest.example']);
  c.end();
});
