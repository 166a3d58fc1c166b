// Sending through the HTTP API end to end: a relay process with a tenant (account, sending domain
// with RSA + Ed25519 keys, API key), a test DNS server and a receiving MX. The message built from
// JSON (cc, bcc, reply-to, custom header, an attachment and an inline image referenced by cid)
// reaches the MX and parses back (mailparser) to the same fields and bytes; bcc is in the envelope
// only; the return-path is the aligned VERP address; both DKIM signatures verify with python3-dkim; GET /v1/messages/{id}, fetched with curl as
// an independent client, shows each recipient delivered with the MX host and the TLS session.
import test from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { eventually } from '../helpers/relay-process.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { curl } from '../helpers/curl.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';
import { createRig } from '../helpers/relay-rig.js';

const skip = await skipUnless(TOOLS.pythonDkim, TOOLS.curl);
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082', 'hex');
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]), Buffer.from('\n%%EOF\n')]);

test('API send: MIME, attachments, inline image, bcc, DKIM, delivery status', { skip }, async (t) => {
  const { dns, mx, relay } = await createRig(t, { config: { domains: { bounceDomain: { label: 'bounces', target: 'relay.test' } } } });

  // The tenant, written to the relay's store before it starts; its DKIM keys published.
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { app: ['send', 'read'] }, dkim: 'both' }, dns);
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;

  const html = '<p>Hello <b>Bob</b></p><img src="cid:logo@acme.test" alt="logo">';
  const sent = await call(base, 'POST', '/v1/messages', {
    token: acme.tokens.app,
    body: {
      from: { name: 'Acme Support', email: 'support@acme.test' },
      to: ['Bob Example <bob@dest.test>'], cc: [{ name: 'Carol', email: 'carol@dest.test' }], bcc: ['dave@dest.test'],
      reply_to: 'help@acme.test', subject: 'Your order ✓ #42', text: 'Hello Bob (text)', html,
      headers: { 'X-Order-Id': '42', 'List-Id': '<orders.acme.test>' },
      attachments: [
        { filename: 'logo.png', content: PNG.toString('base64'), content_type: 'image/png', content_id: 'logo@acme.test' },
        { filename: 'invoice.pdf', content: PDF.toString('base64'), content_type: 'application/pdf' },
      ],
      tags: ['order'], metadata: { order: '42' },
    },
  });
  assert.equal(sent.status, 202, sent.text);
  const id: string = sent.body.id;
  assert.deepEqual(sent.body.recipients.map((r: { email: string }) => r.email), ['bob@dest.test', 'carol@dest.test', 'dave@dest.test']);

  const got = await eventually(() => mx.messages.find((m) => m.body.toString().includes(`<${id}@relay.test>`)));
  // The return-path is the VERP address in acme.test's bounce domain (aligned), as for SMTP mail.
  assert.match(got.mailFrom, new RegExp(`^bounce\\+${id}\\.[a-z2-7]{10}@bounces\\.acme\\.test$`));
  assert.deepEqual([...got.rcptTo].sort(), ['bob@dest.test', 'carol@dest.test', 'dave@dest.test']);
  const raw = got.body.toString('latin1');
  assert.match(raw, /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=acme\.test;/);
  assert.match(raw, /^Received: from \[127\.0\.0\.1\]\r\n\tby relay\.test \(Postlane\) with HTTP id /m);
  assert.doesNotMatch(raw, /dave@dest\.test/, 'bcc is not in the message');

  const parsed = await simpleParser(got.body);
  assert.deepEqual(parsed.from?.value, [{ name: 'Acme Support', address: 'support@acme.test' }]);
  const addrs = (a: typeof parsed.to) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => [v.name, v.address]));
  assert.deepEqual(addrs(parsed.to), [['Bob Example', 'bob@dest.test']]);
  assert.deepEqual(addrs(parsed.cc), [['Carol', 'carol@dest.test']]);
  assert.equal(parsed.bcc, undefined);
  assert.deepEqual(addrs(parsed.replyTo), [['', 'help@acme.test']]);
  assert.equal(parsed.subject, 'Your order ✓ #42');
  assert.equal(parsed.text?.trim(), 'Hello Bob (text)');
  assert.equal(parsed.messageId, `<${id}@relay.test>`);
  assert.equal(parsed.headers.get('x-order-id'), '42');
  assert.match(raw, /^List-Id: <orders\.acme\.test>\r$/im);
  const logo = parsed.attachments.find((a) => a.filename === 'logo.png');
  const pdf = parsed.attachments.find((a) => a.filename === 'invoice.pdf');
  assert.ok(logo && pdf, 'both parts arrive');
  assert.equal(logo.contentType, 'image/png');
  assert.equal(logo.cid, 'logo@acme.test');
  assert.equal(logo.contentDisposition, 'inline');
  assert.ok(logo.content.equals(PNG), 'image bytes');
  assert.equal(pdf.contentType, 'application/pdf');
  assert.equal(pdf.contentDisposition, 'attachment');
  assert.ok(pdf.content.equals(PDF), 'attachment bytes');
  // mailparser resolves cid: references to the inline part it names: the image is the one sent.
  assert.ok(String(parsed.html).includes(`<img src="data:image/png;base64,${PNG.toString('base64')}"`), String(parsed.html));

  assert.deepEqual(await pythonVerify(dns.port, got.body, 2), ['pass', 'pass'], 'python3-dkim verifies both signatures');

  // Status, read with curl (an independent HTTP client).
  const status = await eventually(async () => {
    const r = await curl(['-H', `Authorization: Bearer ${acme.tokens.app}`, `${base}/v1/messages/${id}`]);
    assert.equal(r.status, 200, r.body);
    const m = JSON.parse(r.body) as { recipients: { id: string; email: string; status: string; history: { status: string; mx_host: string; response: string; tls: { version: string } | null }[] }[] };
    return m.recipients.every((x) => x.status === 'delivered') ? m : null;
  });
  assert.deepEqual(status.recipients.map((r) => r.id), [`${id}.0`, `${id}.1`, `${id}.2`]);
  for (const r of status.recipients) {
    const last = r.history.at(-1)!;
    assert.equal(last.status, 'delivered');
    assert.equal(last.mx_host, 'mx.dest.test');
    assert.match(last.response, /^250/);
    assert.match(last.tls?.version ?? '', /^TLSv1\.[23]$/, 'STARTTLS with the MX is recorded');
  }
  // The events of the message, paged by cursor, carry its metadata.
  const events = await eventually(async () => {
    const r = await call(base, 'GET', `/v1/events?message_id=${id}`, { token: acme.tokens.app });
    const delivered = r.body.data.filter((e: { type: string }) => e.type === 'delivered');
    return delivered.length === 3 ? r.body : null;
  });
  assert.equal(events.data[0].type, 'accepted');
  assert.deepEqual(events.data.filter((e: { type: string }) => e.type === 'delivered').map((e: { recipient: string }) => e.recipient).sort(),
    ['bob@dest.test', 'carol@dest.test', 'dave@dest.test']);
  for (const e of events.data) assert.deepEqual(e.data.metadata, { order: '42' });
  const after = await call(base, 'GET', `/v1/events?message_id=${id}&cursor=${events.next_cursor}`, { token: acme.tokens.app });
  assert.deepEqual(after.body.data, [], 'nothing after the cursor');
  assert.equal(after.body.next_cursor, events.next_cursor, 'an empty page keeps the position');
  // curl without a key: 401 with a WWW-Authenticate challenge.
  const anon = await curl(['-D', '-', `${base}/v1/messages/${id}`]);
  assert.equal(anon.status, 401);
  assert.match(anon.body, /www-authenticate: Bearer realm="postlane"/i);
  // The request log line has the key id and never the token.
  const line = await relay.waitForLog((l) => l.event === 'http.request' && l.status === 202);
  assert.equal(line.account, 'acme');
  assert.ok(!relay.logs.some((l) => JSON.stringify(l).includes(acme.tokens.app.slice(20))), 'no token in the logs');
});
