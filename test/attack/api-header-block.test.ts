// Attack pass, thirtieth session: the HTTP API against the 1 MiB header block every SMTP listener
// enforces (554 5.6.0). POST /v1/messages took any number of `headers` (100,000 fields: a 2.2 MB
// header block, composed on the main thread for 1.1 s, then queued for receivers that refuse it)
// and POST /v1/messages/raw any header block (2 MB accepted); dsn.orcpt took any number of keys,
// each looked up among the recipients and each answered with its own field error (300,000 keys:
// 1.9 s, a multi-megabyte 422). Now: at most 100 custom fields, a raw header block of at most
// 1 MiB, at most one orcpt per recipient, each a 422 naming the field once.
// Over real HTTP to a relay process.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';

test('the API keeps header blocks within what SMTP takes, and bounds per-key work', async (t) => {
  const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] } });
  t.after(() => relay.cleanup());
  const acme = await seedRelayTenant(relay, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const post = (path: string, body: unknown) => call(base, 'POST', path, { token: acme.tokens.send!, body });
  const send = { from: 'a@acme.test', to: ['b@far.test'], subject: 's', text: 'x' };
  const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`X-H${i}`, 'v'.repeat(10)]));

  assert.equal((await post('/v1/messages', { ...send, headers: fields(100) })).status, 202);
  for (const n of [101, 100_000]) {
    const r = await post('/v1/messages', { ...send, headers: fields(n) });
    assert.equal(r.status, 422, `${n} fields`);
    assert.deepEqual(r.body.error.fields, [{ path: 'headers', message: 'at most 100 fields' }]);
  }

  const raw = (headerBytes: number) => {
    const lines = Array.from({ length: Math.ceil(headerBytes / 20) }, (_, i) => `X-H${String(i).padStart(8, '0')}: vvvvv\r\n`).join('');
    return { envelope: { from: 'a@acme.test', to: ['b@far.test'] }, message: `From: a@acme.test\r\nTo: b@far.test\r\nSubject: s\r\n${lines}\r\nbody\r\n` };
  };
  assert.equal((await post('/v1/messages/raw', raw(900 * 1024))).status, 202, 'a 900 KiB header block, as SMTP takes');
  const big = await post('/v1/messages/raw', raw(2 * 1024 * 1024));
  assert.equal(big.status, 422);
  assert.deepEqual(big.body.error.fields, [{ path: 'message', message: 'has a header block over 1048576 octets' }]);

  const orcpt = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`r${i}@far.test`, `o${i}@far.test`]));
  assert.equal((await post('/v1/messages', { ...send, to: ['r0@far.test'], dsn: { orcpt: orcpt(1) } })).status, 202);
  for (const n of [2, 300_000]) {
    const r = await post('/v1/messages', { ...send, to: ['r0@far.test'], dsn: { orcpt: orcpt(n) } });
    assert.equal(r.status, 422, `${n} orcpt keys`);
    assert.deepEqual(r.body.error.fields, [{ path: 'dsn.orcpt', message: 'at most one per envelope recipient (1)' }]);
  }
});
