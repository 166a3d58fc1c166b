// Attacker's pass (twenty-eighth session): a NUL byte in a raw API message. SMTP DATA and BDAT refuse
// one (550 5.6.0, data-reader.ts / chunk-reader.ts); POST /v1/messages/raw took it and relayed it. A
// From: field "evil@evil.test<NUL>@acme.test" was authorised as acme.test (the domain after the last
// '@'), while a receiver that reads header lines as C strings sees "From: evil@evil.test": the
// sender-domain check bypassed by a parser differential, and a message SMTP would refuse sent on.
// Now 422 on the field (message or message_base64), as a raw message with a line over 998 octets
// is, and nothing is queued. Over real sockets, against the built relay process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess } from '../helpers/relay-process.js';
import { call, seedAcme } from '../helpers/api-fixture.js';

test('a raw API message with a NUL byte is 422 and not queued, as SMTP DATA refuses it', { timeout: 60_000 }, async (t) => {
  // Nothing leaves the machine: the smarthost is a closed port, DNS a closed resolver.
  const relay = await RelayProcess.create({ delivery: { smarthost: '127.0.0.1:9' }, dns: { servers: ['127.0.0.1:9'], timeout: '1s' } });
  t.after(() => relay.cleanup());
  const acme = await seedAcme(relay);
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const envelope = { from: 'app@acme.test', to: ['bob@dest.test'] };
  const send = (body: Record<string, unknown>) => call(base, 'POST', '/v1/messages/raw', { token: acme.tokens.app, body: { envelope, ...body } });

  const spoof = 'From: evil@evil.test\u0000@acme.test\r\nSubject: nul\r\n\r\nbody\r\n';
  const inBody = 'From: app@acme.test\r\nSubject: nul\r\n\r\nbo\u0000dy\r\n';
  for (const [name, body, path] of [
    ['a NUL in From:', { message: spoof }, 'message'],
    ['a NUL in the body', { message: inBody }, 'message'],
    ['a NUL in From:, base64', { message_base64: Buffer.from(spoof).toString('base64') }, 'message_base64'],
  ] as const) {
    const r = await send(body);
    assert.equal(r.status, 422, `${name}: ${r.text}`);
    assert.deepEqual(r.body.error.fields.map((f: { path: string }) => f.path), [path], name);
    assert.match(r.body.error.fields[0].message, /NUL/, name);
  }
  assert.equal(relay.logs.filter((l) => l.event === 'http.accepted').length, 0, 'nothing queued');

  const control = await send({ message: 'From: app@acme.test\r\nSubject: ok\r\n\r\nbody\r\n' });
  assert.equal(control.status, 202, control.text);
});
