// The inbound MX listener over real sockets: never an open relay, local domains only, stored
// with route 'local'.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, startHarness, type Harness } from './harness.js';

let h: Harness;
before(async () => { h = await startHarness({ 'smtp.maxBadCommands': 50 }); });
after(async () => { await h.close(); });

test('open-relay attempts are refused with 550 5.7.1 and nothing is stored', async () => {
  const attempts = [
    '<victim@other.example>',                       // plain foreign recipient
    '<victim%other.example@relay.test>',             // percent hack
    '<other.example!victim@relay.test>',             // bang path
    '<@relay.test:victim@other.example>',            // source route: the real domain is other.example
    '<@relay.test,@hop.example:victim@relay.test>',  // any source route, even ending locally
    '<"victim@other.example"@relay.test>',           // quoted local part hiding an address
    '<"victim%other.example"@relay.test>',
    '<"other.example!victim"@relay.test>',
    '<victim@[127.0.0.1]>',                          // IP literals
    '<victim@[IPv6:::1]>',
    '<victim@relay.test.other.example>',             // look-alike domain
  ];
  const c = await Client.ready(h.port('mx'), 'plain');
  assert.equal(await c.cmd('MAIL FROM:<spammer@far.example>'), '250 2.1.0 Ok\r\n');
  for (const rcpt of attempts) assert.equal(await c.cmd(`RCPT TO:${rcpt}`), '550 5.7.1 Relaying denied\r\n', rcpt);
  assert.equal(await c.cmd('DATA'), '503 5.5.1 Need RCPT command\r\n');
  c.end();
  // and over TLS it is no different
  const t = await Client.ready(h.port('mx'), 'starttls');
  await t.cmd('MAIL FROM:<spammer@far.example>');
  assert.equal(await t.cmd('RCPT TO:<victim@other.example>'), '550 5.7.1 Relaying denied\r\n');
  assert.equal(await t.cmd('AUTH PLAIN AGFsaWNlAHNlY3JldA=='), '502 5.5.1 Command not implemented\r\n');
  t.end();
  assert.deepEqual(await h.storedIds(), []);
  assert.ok(h.logs.some((l) => l.event === 'smtp.rejected' && l.code === 550 && l.enhanced === '5.7.1' && l.command === 'RCPT'));
});

test('no AUTH on mx, not even after STARTTLS', async () => {
  const c = await Client.ready(h.port('mx'), 'starttls');
  c.send('EHLO client.test');
  assert.ok(!(await c.read()).includes('AUTH'));
  c.end();
});

test('mx accepts postmaster and local domains (any case) and stores them with route local', async () => {
  const c = await Client.ready(h.port('mx'), 'plain');
  assert.equal(await c.cmd('MAIL FROM:<sender@far.example>'), '250 2.1.0 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<postmaster@RELAY.test>'), '250 2.1.5 Ok\r\n');
  assert.equal(await c.cmd('RCPT TO:<Postmaster>'), '250 2.1.5 Ok\r\n', 'RFC 5321: <postmaster> without a domain');
  assert.equal(await c.cmd('RCPT TO:<bounce+abc@Bounces.Relay.Test>'), '250 2.1.5 Ok\r\n');
  assert.equal(await c.cmd('DATA'), '354 End data with <CR><LF>.<CR><LF>\r\n');
  c.write('From: sender@far.example\r\nSubject: inbound\r\n\r\nhello\r\n.\r\n');
  const id = /queued as (\w+)/.exec(await c.read())?.[1];
  assert.ok(id);
  const m = await h.store.getMessage(id!);
  assert.equal(m?.route, 'local');
  assert.deepEqual(m?.origin, { listener: 'mx', clientIp: '127.0.0.1', user: null, helo: 'client.test' });
  assert.deepEqual(m?.recipients.map((r) => r.address), ['postmaster@relay.test', 'bounce+abc@bounces.relay.test'], 'the duplicate postmaster is kept once');
  // mx-port mail gets only a Received header: no Message-ID or Date is made up for it
  assert.match(await h.body(id!), new RegExp(`^Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\\r\\n\\tby relay\\.test \\(Postlane\\) with ESMTP id ${id};\\r\\n\\t[^\\r]+\\r\\nFrom: sender@far\\.example\\r\\nSubject: inbound\\r\\n\\r\\nhello\\r\\n$`));
  c.end();
});
