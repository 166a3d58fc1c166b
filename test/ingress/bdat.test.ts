// BDAT (RFC 3030 CHUNKING) over real sockets, with a raw client: messages in several chunk shapes
// stored byte for byte, chunk bytes never read as commands (also when the BDAT is refused), a
// truncated chunk, chunks over the size limit, BDAT mixed with DATA, pipelining, bare CR/LF and
// long lines refused as DATA refuses them, and STARTTLS + AUTH submissions with their checks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Client, USERS, eventually, startHarness, type Harness } from './harness.js';
import { INLINE_MAX_BYTES } from '../../src/store/sqlite/inline-body.js';
import { LINES_PER_EVENT } from '../../src/ingress/smtp/log-budget.js';
import type { AuthGrant } from '../../src/ingress/smtp/session.js';

const MAX = 1024 * 1024;
let h: Harness;
const grants: Record<string, AuthGrant> = {
  alice: { allowedDomains: ['acme.test'], anyDomain: false, account: 'acme', limits: {} },
  bob: { allowedDomains: ['acme.test'], anyDomain: false, account: 'spare', limits: {} },
};
before(async () => {
  h = await startHarness({ 'limits.maxMessageSize': MAX }, {
    quota: true, authenticate: async (user, password) => USERS.get(user) === password && (grants[user] ?? false),
  });
  await h.store.addAccount({ name: 'acme', createdAt: 0, limits: { perDay: 6 } });
  await h.store.addAccount({ name: 'spare', createdAt: 0, limits: {} });
});
after(async () => { await h.close(); });

const spoolFiles = async () => (await fs.readdir(path.join(h.config.dataDir, 'spool'))).filter((f) => !f.startsWith('.'));
const bdat = (bytes: string | Buffer, last = false) => {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8');
  return Buffer.concat([Buffer.from(`BDAT ${b.length}${last ? ' LAST' : ''}\r\n`), b]);
};
const queuedId = (r: string) => /^250 2\.0\.0 Ok: queued as (\w+)\r\n$/.exec(r)?.[1];

/** An mx session after MAIL and RCPT. */
async function inTransaction(): Promise<Client> {
  const c = await Client.ready(h.port('mx'), 'plain');
  assert.equal(await c.cmd('MAIL FROM:<sender@far.example>'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<postmaster@relay.test>'), '250 2.1.5 Ok\r\n');
  return c;
}

/** Sends the chunks one by one, each answered before the next; returns the replies. */
async function sendChunks(c: Client, chunks: string[]): Promise<string[]> {
  const replies: string[] = [];
  for (let i = 0; i < chunks.length; i++) {
    c.write(bdat(chunks[i]!, i === chunks.length - 1));
    replies.push(await c.read());
  }
  return replies;
}

async function storedAfter(id: string | undefined): Promise<string> {
  assert.ok(id, 'queued');
  const body = await h.body(id!);
  await h.store.deleteMessage(id!);
  return body;
}

test('EHLO offers CHUNKING on every listener; never BINARYMIME', async () => {
  const c = await Client.connect(h.port('mx'));
  await c.read();
  const ehlo = await c.cmd('EHLO client.test');
  assert.match(ehlo, /^250-CHUNKING\r$/m);
  assert.doesNotMatch(ehlo, /BINARYMIME/);
  assert.equal(await c.cmd('MAIL FROM:<a@far.example> BODY=BINARYMIME'), '555 5.5.4 Unsupported parameter\r\n');
  c.end();
});

test('chunk shapes: stored byte for byte, dots and command-like lines untouched', async () => {
  const message = 'From: sender@far.example\r\nSubject: chunked\r\n\r\n.\r\n..two dots\r\nQUIT\r\nMAIL FROM:<evil@far.example>\r\n.\r\nlast line\r\n';
  const shapes: [string, string[]][] = [
    ['one LAST chunk', [message]],
    ['chunks, then BDAT 0 LAST', [message.slice(0, 30), message.slice(30), '']],
    ['a CRLF split across chunks', [message.slice(0, message.indexOf('\n')), message.slice(message.indexOf('\n'))]],
    ['the header/body break split', [message.slice(0, message.indexOf('\r\n\r\n') + 3), message.slice(message.indexOf('\r\n\r\n') + 3)]],
    ['one octet per chunk', [...message.slice(0, 12), message.slice(12)]],
  ];
  for (const [name, chunks] of shapes) {
    const c = await inTransaction();
    const replies = await sendChunks(c, chunks);
    assert.deepEqual(replies.slice(0, -1), chunks.slice(0, -1).map((ch) => `250 2.0.0 Ok: ${Buffer.byteLength(ch)} octets\r\n`), name);
    const body = await storedAfter(queuedId(replies.at(-1)!));
    assert.match(body, /^Received: from client\.test /, name);
    assert.ok(body.endsWith(message), `${name}: ${JSON.stringify(body)}`);
    assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n', `${name}: in step after the message`);
    c.end();
  }
  // a message without a final CRLF gets one; a header-only message works
  const c = await inTransaction();
  c.write(bdat('Subject: no final newline', true));
  assert.ok((await storedAfter(queuedId(await c.read()))).endsWith('\r\nSubject: no final newline\r\n'));
  c.end();
});

test('pipelined: MAIL, RCPT and BDAT chunks in one write, answered in order; a second transaction follows', async () => {
  const c = await Client.ready(h.port('mx'), 'plain');
  const tx = (tag: string) => Buffer.concat([
    Buffer.from('MAIL FROM:<sender@far.example>\r\nRCPT TO:<postmaster@relay.test>\r\n'),
    bdat(`Subject: ${tag}\r\n\r\n`), bdat('BDAT 5 LAST\r\nhello\r\n'), bdat(`${tag} end\r\n`, true),
  ]);
  c.write(Buffer.concat([tx('first'), tx('second'), Buffer.from('NOOP\r\n')]));
  const replies: string[] = [];
  for (let i = 0; i < 11; i++) replies.push(await c.read());
  const codes = replies.map((r) => r.slice(0, 3));
  assert.deepEqual(codes, ['250', '250', '250', '250', '250', '250', '250', '250', '250', '250', '250']);
  const ids = [queuedId(replies[4]!), queuedId(replies[9]!)];
  assert.equal(replies[10], '250 2.0.0 Ok\r\n');
  assert.ok((await storedAfter(ids[0])).endsWith('Subject: first\r\n\r\nBDAT 5 LAST\r\nhello\r\nfirst end\r\n'));
  assert.ok((await storedAfter(ids[1])).endsWith('Subject: second\r\n\r\nBDAT 5 LAST\r\nhello\r\nsecond end\r\n'));
  c.end();
});

test('injection: BDAT without MAIL/RCPT is refused, and its octets are never read as commands', async () => {
  const smuggled = 'MAIL FROM:<ceo@relay.test>\r\nRCPT TO:<postmaster@relay.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\nQUIT\r\n';
  const c = await Client.ready(h.port('mx'), 'plain');
  c.write(Buffer.concat([bdat(smuggled, true), Buffer.from('NOOP\r\n')]));
  assert.equal(await c.read(), '503 5.5.1 Need MAIL command\r\n');
  assert.equal(await c.read(), '250 2.0.0 Ok\r\n', 'the next reply is the NOOP\'s: nothing inside the chunk ran');
  await c.cmd('MAIL FROM:<sender@far.example>');
  c.write(Buffer.concat([bdat(smuggled), Buffer.from('NOOP\r\n')]));
  assert.equal(await c.read(), '503 5.5.1 Need RCPT command\r\n');
  assert.equal(await c.read(), '250 2.0.0 Ok\r\n');
  assert.equal(c.unread, '');
  c.end();
  assert.deepEqual(await h.storedIds(), []);
});

test('a chunk over the size limit: 552 5.3.4, its octets consumed, later chunks refused too; nothing stored', async () => {
  const c = await inTransaction();
  c.write(bdat('Subject: big\r\n\r\n'));
  assert.equal(await c.read(), '250 2.0.0 Ok: 16 octets\r\n');
  const line = 'x'.repeat(998) + '\r\n';
  c.write(bdat(line.repeat(Math.ceil(MAX / line.length))));
  assert.equal(await c.read(), '552 5.3.4 Message too big\r\n');
  c.write(Buffer.concat([bdat('NOOP\r\n'), bdat('more\r\n', true), Buffer.from('NOOP\r\n')]));
  assert.equal(await c.read(), '552 5.3.4 Message too big\r\n');
  assert.equal(await c.read(), '552 5.3.4 Message too big\r\n', 'LAST ends the refused transaction');
  assert.equal(await c.read(), '250 2.0.0 Ok\r\n', 'still in step: every announced octet was consumed');
  assert.equal(await c.cmd('MAIL FROM:<sender@far.example>'), '250 2.1.0 Ok\r\n', 'the transaction is over');
  c.end();
  assert.deepEqual(await h.storedIds(), []);
  await eventually(async () => (await spoolFiles()).length === 0);
  // the limit itself is fine
  const ok = await inTransaction();
  const head = 'Subject: full\r\n\r\n';
  const lines = Math.floor((MAX - head.length) / 1000);
  const full = head + ('y'.repeat(998) + '\r\n').repeat(lines) + 'y'.repeat(MAX - head.length - lines * 1000 - 2) + '\r\n';
  assert.equal(full.length, MAX);
  ok.write(bdat(full, true));
  const body = await storedAfter(queuedId(await ok.read()));
  assert.ok(body.endsWith(full));
  ok.end();
});

test('bare CR or LF in a chunk: 550 5.5.2 like DATA, the session goes on; long lines and NUL as DATA', async () => {
  const c = await inTransaction();
  c.write(bdat('Subject: x\r\n\r\ninnocent\n.\nMAIL FROM:<ceo@relay.test>\r\n'));
  assert.equal(await c.read(), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n');
  c.write(bdat('rest\r\n', true));
  assert.equal(await c.read(), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n');
  // a CR that ends a chunk and is not followed by LF in the next one
  await c.cmd('MAIL FROM:<sender@far.example>');
  await c.cmd('RCPT TO:<postmaster@relay.test>');
  assert.equal((await sendChunks(c, ['Subject: x\r\n\r\nend\r', '.\r\n'])).at(-1), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n');
  await c.cmd('MAIL FROM:<sender@far.example>');
  await c.cmd('RCPT TO:<postmaster@relay.test>');
  c.write(bdat(`Subject: long\r\n\r\n${'z'.repeat(999)}\r\n`, true));
  assert.equal(await c.read(), '550 5.6.0 Message has a line longer than 998 octets; encode long lines (quoted-printable or base64)\r\n');
  await c.cmd('MAIL FROM:<sender@far.example>');
  await c.cmd('RCPT TO:<postmaster@relay.test>');
  c.write(bdat('Subject: nul\r\n\r\na\0b\r\n', true));
  assert.equal(await c.read(), '550 5.6.0 NUL bytes in message data are not allowed\r\n');
  assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
  c.end();
  assert.deepEqual(await h.storedIds(), []);
  assert.ok(h.logs.some((l) => l.event === 'smtp.bad_data' && l.command === 'BDAT' && l.reason === 'bare-lf'));
});

test('BDAT mixed with DATA: 503, the chunks already sent are dropped; RSET, then DATA works', async () => {
  const c = await inTransaction();
  c.write(bdat('Subject: mixed\r\n\r\n'));
  assert.match(await c.read(), /^250 2\.0\.0 Ok: 18 octets/);
  assert.equal(await c.cmd('DATA'), '503 5.5.1 DATA not allowed after BDAT; send RSET\r\n');
  c.write(bdat('body\r\n', true));
  assert.equal(await c.read(), '503 5.5.1 DATA not allowed after BDAT; send RSET\r\n');
  assert.equal(await c.cmd('RSET'), '250 2.0.0 Ok\r\n');
  await c.cmd('MAIL FROM:<sender@far.example>');
  await c.cmd('RCPT TO:<postmaster@relay.test>');
  assert.match(await c.cmd('DATA'), /^354 /);
  const id = queuedId(await c.cmd('Subject: by DATA\r\n\r\nfine\r\n.'));
  assert.ok((await storedAfter(id)).endsWith('Subject: by DATA\r\n\r\nfine\r\n'));
  c.end();
  assert.deepEqual(await h.storedIds(), []);
});

test('a malformed BDAT size: 521 and the connection closes; what followed is never run', async () => {
  for (const bad of ['BDAT ten', 'BDAT -5', 'BDAT 5 NOTLAST', 'BDAT']) {
    const c = await inTransaction();
    c.write(`${bad}\r\nRSET\r\nMAIL FROM:<x@far.example>\r\n`);
    assert.equal(await c.read(), '521 5.5.4 Syntax: BDAT count [LAST]\r\n', bad);
    assert.equal(await c.isClosedWithin(), true, bad);
    assert.equal(c.unread, '', bad);
  }
});

test('a truncated chunk: the client disconnects mid-chunk, nothing is stored, no spool file is left', async () => {
  const c = await inTransaction();
  const big = 'Subject: cut\r\n\r\n' + 'partial line of a big message\r\n'.repeat(Math.ceil((INLINE_MAX_BYTES * 2) / 31));
  c.write(bdat(big.slice(0, INLINE_MAX_BYTES + 1000)));
  assert.match(await c.read(), /^250 /);
  c.write(`BDAT ${big.length} LAST\r\n`);
  c.write(big.slice(0, 5000));
  await new Promise((r) => setTimeout(r, 50));
  c.end();
  await eventually(async () => (await spoolFiles()).length === 0);
  assert.deepEqual(await h.storedIds(), []);
  // the server keeps serving
  const ok = await inTransaction();
  ok.write(bdat('Subject: after\r\n\r\nok\r\n', true));
  await storedAfter(queuedId(await ok.read()));
  ok.end();
});

test('submission after STARTTLS and AUTH: the same checks as DATA (From: domain, quota), submission fields added', async () => {
  const c = await Client.ready(h.port('submission'), 'auth');
  assert.match(await c.cmd('EHLO client.test'), /250-CHUNKING\r\n/);
  assert.equal(await c.cmd('MAIL FROM:<alice@acme.test> SMTPUTF8'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<bob@dest.example>'), '250 2.1.5 Ok\r\n');
  c.write(bdat('From: ceo@other.test\r\nSubject: pay\r\n\r\nwire money\r\n', true));
  assert.match(await c.read(), /^550 5\.7\.1 /, 'From: of a domain alice may not use');
  assert.equal(await c.cmd('MAIL FROM:<alice@acme.test> SMTPUTF8'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<josé@dest.example>'), '250 2.1.5 Ok\r\n');
  c.write(Buffer.concat([bdat('From: Alice <alice@acme.test>\r\nSubject: héllo\r\n\r\n'), bdat('ünïcode body\r\n', true)]));
  assert.match(await c.read(), /^250 2\.0\.0 Ok: \d+ octets/);
  const id = queuedId(await c.read());
  const body = await storedAfter(id);
  assert.match(body, /^Received: from client\.test .*\r\n\tby relay\.test \(Postlane\) with UTF8SMTPSA id /);
  assert.match(body, /\r\nMessage-ID: <\w+@relay\.test>\r\nDate: /);
  assert.ok(body.includes('\r\nSubject: héllo\r\n'));
  assert.ok(body.endsWith('\r\n\r\nünïcode body\r\n'));
  // quota: acme may send 6 per day; 2 recipients were charged above, 4 are left
  await c.cmd('MAIL FROM:<alice@acme.test>');
  const rcpts: string[] = [];
  for (let i = 0; i < 5; i++) rcpts.push(await c.cmd(`RCPT TO:<r${i}@dest.example>`));
  assert.deepEqual(rcpts.map((r) => r.slice(0, 3)), ['250', '250', '250', '250', '452']);
  c.write(bdat('From: alice@acme.test\r\n\r\nquota\r\n', true));
  const queued = queuedId(await c.read());
  const rows = (await h.store.listRecipients({ includeFinal: true })).filter((r) => r.messageId === queued);
  assert.equal(rows.length, 4, 'only the charged recipients are queued');
  await h.store.deleteMessage(queued!);
  c.end();
});

test('a peer that never sends the announced octets meets the data timeout (421 4.4.2), nothing stored', async () => {
  const t = await startHarness({ 'smtp.commandTimeout': '5s', 'smtp.dataTimeout': '300ms' });
  try {
    const c = await Client.ready(t.port('mx'), 'plain');
    await c.cmd('MAIL FROM:<sender@far.example>');
    await c.cmd('RCPT TO:<postmaster@relay.test>');
    c.write('BDAT 100 LAST\r\nonly a few octets');
    assert.equal(await c.read(), '421 4.4.2 Timeout, closing connection\r\n');
    assert.equal(await c.isClosedWithin(), true);
    assert.deepEqual(await t.storedIds(), []);
  } finally {
    await t.close();
  }
});

test('refused chunks in one session use the session log budget: a few lines, then one summary', async () => {
  const t = await startHarness({ 'smtp.maxBadCommands': 1000 });
  try {
    const c = await Client.ready(t.port('mx'), 'plain');
    const n = 30;
    const tx = Buffer.concat([Buffer.from('MAIL FROM:<s@far.example>\r\nRCPT TO:<postmaster@relay.test>\r\n'), bdat('Subject: x\r\n\r\nbare\nLF\r\n', true)]);
    c.write(Buffer.concat(Array.from({ length: n }, () => tx))); // pipelined
    for (let i = 0; i < n; i++) {
      assert.equal(await c.read(), '250 2.1.0 Ok\r\n');
      assert.equal(await c.read(), '250 2.1.5 Ok\r\n');
      assert.equal(await c.read(), '550 5.5.2 Bare CR or LF in message data is not allowed\r\n', `transaction ${i}`);
    }
    assert.match(await c.cmd('QUIT'), /^221 /);
    await c.closed;
    await eventually(() => t.logs.some((l) => l.event === 'smtp.log_suppressed'));
    const summary = t.logs.find((l) => l.event === 'smtp.log_suppressed')!;
    assert.deepEqual(summary.suppressed, { 'smtp.bad_data': n - LINES_PER_EVENT, 'smtp.rejected': n - LINES_PER_EVENT });
    assert.equal(t.logs.filter((l) => l.event === 'smtp.bad_data').length, LINES_PER_EVENT);
    assert.deepEqual(await t.storedIds(), []);
  } finally {
    await t.close();
  }
});

test('the LAST reply waits for the store: 250 only once put() committed; a failing put is 451 4.3.0 and nothing is kept', async () => {
  const put = h.store.put.bind(h.store);
  let committed = 0;
  h.store.put = async (...args: Parameters<typeof put>) => { await put(...args); committed++; };
  try {
    const c = await inTransaction();
    c.write(Buffer.concat([bdat('Subject: durable\r\n\r\n'), bdat('body\r\n', true)]));
    assert.match(await c.read(), /^250 2\.0\.0 Ok: 20 octets/);
    const id = queuedId(await c.read());
    assert.equal(committed, 1, 'committed before the 250 was written');
    await storedAfter(id);
    h.store.put = async () => { throw new Error('store down'); };
    await c.cmd('MAIL FROM:<sender@far.example>');
    await c.cmd('RCPT TO:<postmaster@relay.test>');
    c.write(bdat('Subject: lost\r\n\r\nbody\r\n', true));
    assert.equal(await c.read(), '451 4.3.0 Temporary local problem, try again later\r\n');
    assert.equal(await c.cmd('NOOP'), '250 2.0.0 Ok\r\n');
    c.end();
  } finally {
    h.store.put = put;
  }
  assert.deepEqual(await h.storedIds(), []);
  await eventually(async () => (await spoolFiles()).length === 0);
});

test('submissions (TLS from the first byte): a pipelined BDAT transaction', async () => {
  const c = await Client.ready(h.port('submissions'), 'implicit-auth', 'bob'); // bob: an account without limits
  c.write(Buffer.concat([
    Buffer.from('MAIL FROM:<alice@acme.test>\r\nRCPT TO:<tls@dest.example>\r\n'),
    bdat('From: alice@acme.test\r\nSubject: implicit TLS\r\n\r\n'), bdat('over TLS\r\n', true),
  ]));
  assert.deepEqual([await c.read(), await c.read()], ['250 2.1.0 Ok\r\n', '250 2.1.5 Ok\r\n']);
  assert.match(await c.read(), /^250 2\.0\.0 Ok: \d+ octets\r\n$/);
  const body = await storedAfter(queuedId(await c.read()));
  assert.match(body, /\(using TLSv1\.[23] with cipher /);
  assert.ok(body.endsWith('\r\n\r\nover TLS\r\n'));
  c.end();
});
