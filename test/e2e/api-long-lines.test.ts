// Long lines through the HTTP API, end to end (relay process, test DNS, receiving MX): JSON text
// and html with 5,000-character lines arrive encoded (quoted-printable or base64) with no line over
// 998 octets (78 in the body), decode back to what was sent, and keep their DKIM signature valid; a
// raw message with a line over 998 octets is refused with 422 and nothing is queued.
import test from 'node:test';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { eventually } from '../helpers/relay-process.js';
import { pythonVerify } from '../helpers/python-dkim.js';
import { TOOLS, skipUnless } from '../helpers/require-tool.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';
import { createRig } from '../helpers/relay-rig.js';

const skip = await skipUnless(TOOLS.pythonDkim);
const linesOf = (b: Buffer) => b.toString('latin1').split('\r\n');
const longest = (lines: string[]) => Math.max(...lines.map((l) => l.length));

test('API: long text/html lines arrive encoded within 998 octets; a raw long line is 422', { skip }, async (t) => {
  const { dns, mx, relay } = await createRig(t);
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { app: ['send', 'read'] } }, dns);
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;

  const text = `${'0123456789'.repeat(500)}\nthe end: ${'ünïcödé '.repeat(400)}`;
  const html = `<p>${'<b>x</b>'.repeat(700)}</p>`;
  const sent = await call(base, 'POST', '/v1/messages', {
    token: acme.tokens.app, body: { from: 'app@acme.test', to: ['bob@dest.test'], subject: 'S'.repeat(997), text, html },
  });
  assert.equal(sent.status, 202, sent.text);
  const got = await eventually(() => mx.messages.find((m) => m.body.toString().includes(`<${sent.body.id}@relay.test>`)));
  const lines = linesOf(got.body);
  const blank = lines.indexOf('');
  assert.ok(longest(lines) <= 998, `longest line ${longest(lines)}`);
  assert.ok(longest(lines.slice(blank + 1)) <= 78, `longest body line ${longest(lines.slice(blank + 1))}`);
  assert.match(got.body.toString('latin1'), /Content-Transfer-Encoding: (quoted-printable|base64)/i);
  const parsed = await simpleParser(got.body);
  assert.equal(parsed.text?.trim(), text.trim());
  assert.equal(String(parsed.html).trim(), html);
  assert.equal(parsed.subject, 'S'.repeat(997));
  assert.deepEqual(await pythonVerify(dns.port, got.body, 1), ['pass'], 'python3-dkim verifies it');

  const raw = await call(base, 'POST', '/v1/messages/raw', {
    token: acme.tokens.app,
    body: { envelope: { from: 'app@acme.test', to: ['bob@dest.test'] }, message: `From: app@acme.test\r\nSubject: raw\r\n\r\n${'L'.repeat(5000)}\r\n` },
  });
  assert.equal(raw.status, 422);
  assert.deepEqual(raw.body.error.fields, [{ path: 'message', message: 'has a line longer than 998 octets; encode long lines (quoted-printable or base64)' }]);
  const list = await call(base, 'GET', '/v1/messages', { token: acme.tokens.app });
  assert.deepEqual(list.body.data.map((m: { id: string }) => m.id), [sent.body.id], 'the raw message was not queued');
});
