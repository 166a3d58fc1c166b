// DATA over real sockets: SMTP smuggling, size and content limits, and a client that vanishes
// mid-DATA. Nothing refused may ever reach the queue, and the server keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, eventually, startHarness, type Harness } from './harness.js';

const MAX = 64 * 1024;
let h: Harness;
before(async () => { h = await startHarness({ 'limits.maxMessageSize': MAX }); }); // limits.maxLineLength: the default
after(async () => { await h.close(); });

const spoolFiles = async () => (await fs.readdir(path.join(h.config.dataDir, 'spool'))).filter((f) => !f.startsWith('.'));

/** An mx session (no TLS or AUTH needed) ready for data. */
async function atData(port = h.port('mx')): Promise<Client> {
  const c = await Client.ready(port, 'plain');
  await c.cmd('MAIL FROM:<sender@far.example>');
  await c.cmd('RCPT TO:<postmaster@relay.test>');
  assert.equal(await c.cmd('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
  return c;
}

async function sendsOneMessage(port = h.port('mx')): Promise<string> {
  const c = await atData(port);
  c.write('Subject: fine\r\n\r\nok\r\n.\r\n');
  const id = /^250 2\.0\.0 Ok: queued as (\w+)\r\n$/.exec(await c.read())?.[1];
  assert.ok(id);
  c.end();
  return id!;
}

test('SMTP smuggling: every bare-LF / bare-CR end of data is refused, the connection closed, nothing stored', async () => {
  const variants = ['\n.\n', '\r\n.\n', '\n.\r\n', '\r.\r', '\r\n.\r', '\r.\r\n'];
  const smuggled = 'MAIL FROM:<ceo@relay.test>\r\nRCPT TO:<postmaster@relay.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n';
  for (const v of variants) {
    const c = await atData();
    c.write(`Subject: cover\r\n\r\ninnocent${v}${smuggled}`);
    assert.equal(await c.read(), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n', JSON.stringify(v));
    assert.equal(await c.isClosedWithin(), true, `closed after ${JSON.stringify(v)}`);
    assert.equal(c.unread, '', 'no second reply: nothing after the violation was processed');
  }
  // also when the violation comes in its own packet, after the end-of-data looks complete
  const c = await atData();
  c.write('Subject: cover\r\n\r\ninnocent\r\n');
  await new Promise((r) => setTimeout(r, 20));
  c.write('.\n' + smuggled);
  assert.equal(await c.read(), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n');
  assert.equal(await c.isClosedWithin(), true);
  // and on authenticated submission the same
  const s = await Client.ready(h.port('submission'), 'auth');
  await s.cmd('MAIL FROM:<alice@example.com>');
  await s.cmd('RCPT TO:<bob@dest.example>');
  await s.cmd('DATA');
  s.write(`Subject: cover\r\n\r\nx\n.\n${smuggled}`);
  assert.equal(await s.read(), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n');
  assert.equal(await s.isClosedWithin(), true);

  assert.deepEqual(await h.storedIds(), []);
  await eventually(async () => (await spoolFiles()).length === 0);
  assert.equal(h.logs.filter((l) => l.event === 'smtp.bad_data').length, variants.length + 2);
});

test('oversized message: 552 5.3.4 after the end of data, nothing stored, the session and server go on', async () => {
  const c = await atData();
  const line = 'x'.repeat(998) + '\r\n';
  c.write('Subject: big\r\n\r\n');
  for (let i = 0; i < 100; i++) c.write(line); // 100 KB > 64 KB
  c.write('.\r\n');
  assert.equal(await c.read(), '552 5.3.4 Message too big\r\n');
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n', 'the session goes on');
  c.end();
  assert.deepEqual(await h.storedIds(), []);
  await eventually(async () => (await spoolFiles()).length === 0);
  const id = await sendsOneMessage();
  assert.deepEqual(await h.storedIds(), [id]);
  await h.store.deleteMessage(id);
});

test('a message exactly at the limit is accepted', async () => {
  const c = await atData();
  const full = Math.floor(MAX / 1000);
  const body = ('y'.repeat(998) + '\r\n').repeat(full) + 'y'.repeat(MAX - full * 1000 - 2) + '\r\n';
  assert.equal(body.length, MAX);
  c.write(body + '.\r\n');
  const r = await c.read();
  assert.match(r, /^250 2\.0\.0 Ok: queued as/);
  c.end();
  await h.store.deleteMessage(/queued as (\w+)/.exec(r)![1]!);
});

test('NUL bytes and over-long lines in data are refused; the session goes on', async () => {
  const c = await atData();
  c.write('Subject: nul\r\n\r\na\0b\r\n.\r\n');
  assert.equal(await c.read(), '550 5.6.0 NUL bytes in message data are not allowed\r\n');
  await c.cmd('MAIL FROM:<sender@far.example>');
  await c.cmd('RCPT TO:<postmaster@relay.test>');
  await c.cmd('DATA');
  c.write(`Subject: long\r\n\r\n${'z'.repeat(1500)}\r\n.\r\n`);
  assert.equal(await c.read(), '550 5.6.0 Message has a line longer than 998 octets; encode long lines (quoted-printable or base64)\r\n');
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
  c.end();
  assert.deepEqual(await h.storedIds(), []);
});

test('lines over 998 octets (RFC 5322 2.1.1): refused after the data, 550 5.6.0; 998 exactly is accepted as sent', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  const transaction = async (body: string) => {
    assert.equal(await c.cmd('MAIL FROM:<alice@example.com>'), '250 2.1.0 Ok\r\n');
    assert.equal(await c.cmd('RCPT TO:<bob@dest.example>'), '250 2.1.5 Ok\r\n');
    assert.match(await c.cmd('DATA'), /^354 /);
    c.write(`From: alice@example.com\r\nSubject: lines\r\n\r\n${body}.\r\n`);
    return c.read();
  };
  const refusal = '550 5.6.0 Message has a line longer than 998 octets; encode long lines (quoted-printable or base64)\r\n';
  assert.equal(await transaction(`first\r\n${'L'.repeat(5000)}\r\nlast\r\n`), refusal);
  assert.equal(await transaction(`${'L'.repeat(999)}\r\n`), refusal);
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n', 'the connection stays open');
  assert.deepEqual(await h.storedIds(), []);
  const line998 = 'M'.repeat(998);
  const ok = /^250 2\.0\.0 Ok: queued as (\w+)\r\n$/.exec(await transaction(`${line998}\r\n..${'D'.repeat(997)}\r\n`));
  assert.ok(ok, 'a 998-octet line, and a 998-octet line starting with a dot, are accepted');
  const stored = await h.body(ok[1]!);
  assert.ok(stored.endsWith(`\r\n\r\n${line998}\r\n.${'D'.repeat(997)}\r\n`), 'stored as sent');
  c.end();
  await h.store.deleteMessage(ok[1]!);
});

test('a client that disconnects mid-DATA leaves nothing stored; the server keeps serving', async () => {
  const c = await atData();
  // Under the store's inline limit (256 KiB): the partial body is only in memory, never a file.
  c.write('Subject: cut\r\n\r\n' + 'partial line\r\n'.repeat(2000));
  c.end();
  await eventually(async () => (await spoolFiles()).length === 0);
  assert.deepEqual(await h.storedIds(), []);
  const id = await sendsOneMessage();
  assert.deepEqual(await h.storedIds(), [id]);
  await h.store.deleteMessage(id);
});
