// Tenant isolation through the HTTP API, against a relay process: account B's keys (even admin)
// cannot read, list or act on account A's messages, events, keys, domains or webhooks. Another
// account's object is answered exactly like one that does not exist (404), never 403.
import test from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { call, seedTenant, type Tenant } from '../helpers/api-fixture.js';

const keyId = (token: string) => token.slice(3, 19);

test('tenant isolation across every endpoint family', async (t) => {
  // No DNS for the recipients' domain: messages stay queued/deferred, which is all this test needs.
  const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] }, webhooks: { allowPrivateDestinations: true } });
  t.after(() => relay.cleanup());
  const store = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await store.open();
  const a: Tenant = await seedTenant(store, { account: 'alpha', domains: ['alpha.test'], keys: { admin: ['admin'], send: ['send'] } });
  const b: Tenant = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { admin: ['admin'] } });
  await store.close();
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const asA = (method: string, path: string, body?: unknown) => call(base, method, path, { token: a.tokens.admin, body });
  const asB = (method: string, path: string, body?: unknown) => call(base, method, path, { token: b.tokens.admin, body });

  const sent = await asA('POST', '/v1/messages', { from: 'news@alpha.test', to: ['reader@far.test'], subject: 'alpha only', text: 'x', tags: ['alpha-tag'] });
  assert.equal(sent.status, 202, sent.text);
  const id: string = sent.body.id;

  await t.test('messages', async () => {
    assert.equal((await asA('GET', `/v1/messages/${id}`)).status, 200);
    const foreign = await asB('GET', `/v1/messages/${id}`);
    const unknown = await asB('GET', '/v1/messages/00000000000000000000');
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, unknown.body, 'indistinguishable from an unknown id');
    for (const q of ['', '?recipient=reader@far.test', '?tag=alpha-tag', '?from=news@alpha.test', '?status=queued']) {
      const listed = await asB('GET', `/v1/messages${q}`);
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.data, [], `B sees nothing for ${q || 'no filter'}`);
    }
    assert.ok((await asA('GET', '/v1/messages?tag=alpha-tag')).body.data.some((m: { id: string }) => m.id === id));
    // B cannot send as A's domain, by JSON or raw.
    const spoof = await asB('POST', '/v1/messages', { from: 'ceo@alpha.test', to: ['x@far.test'], text: 'x' });
    assert.equal(spoof.status, 422);
    const rawSpoof = await asB('POST', '/v1/messages/raw', { envelope: { from: 'x@beta.test', to: ['x@far.test'] }, message: 'From: ceo@alpha.test\r\n\r\nx\r\n' });
    assert.equal(rawSpoof.status, 422);
  });

  await t.test('events', async () => {
    const mine = await eventually(async () => {
      const r = await asA('GET', `/v1/events?message_id=${id}`);
      return r.body.data.length > 0 ? r.body.data : null;
    });
    assert.equal(mine[0].type, 'accepted');
    assert.deepEqual((await asB('GET', `/v1/events?message_id=${id}`)).body.data, []);
    assert.deepEqual((await asB('GET', '/v1/events?recipient=reader@far.test')).body.data, []);
    const all = await asB('GET', '/v1/events?limit=1000');
    assert.ok(!JSON.stringify(all.body).includes(id));
  });

  await t.test('keys', async () => {
    const listed = await asB('GET', '/v1/keys');
    assert.deepEqual(listed.body.data.map((k: { id: string }) => k.id), [keyId(b.tokens.admin)]);
    assert.equal((await asB('DELETE', `/v1/keys/${keyId(a.tokens.send)}`)).status, 404);
    assert.equal((await call(base, 'GET', '/v1/messages', { token: a.tokens.send })).status, 403, 'A\'s send key still authenticates (scope check, not 401)');
    const created = await asB('POST', '/v1/keys', { scopes: ['admin'] });
    assert.equal(created.status, 201);
    assert.deepEqual((await call(base, 'GET', `/v1/messages/${id}`, { token: created.body.token })).status, 404, 'a key B creates is B\'s');
  });

  await t.test('domains', async () => {
    assert.deepEqual((await asB('GET', '/v1/domains')).body.data.map((d: { name: string }) => d.name), ['beta.test']);
    const foreign = await asB('GET', '/v1/domains/alpha.test');
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, (await asB('GET', '/v1/domains/nowhere.test')).body);
    const own = await asA('GET', '/v1/domains/alpha.test');
    assert.equal(own.status, 200);
    assert.ok(own.body.records.some((r: { purpose: string }) => r.purpose === 'dkim'));
    assert.ok(!JSON.stringify(own.body).includes('PRIVATE KEY'));
  });

  await t.test('webhooks', async () => {
    const hook = await asA('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['delivered'] });
    assert.equal(hook.status, 201);
    assert.match(hook.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const hid: string = hook.body.id;
    assert.deepEqual((await asB('GET', '/v1/webhooks')).body.data, []);
    for (const [method, path] of [['GET', `/v1/webhooks/${hid}`], ['GET', `/v1/webhooks/${hid}/attempts`], ['POST', `/v1/webhooks/${hid}/enable`], ['DELETE', `/v1/webhooks/${hid}`]] as const) {
      assert.equal((await asB(method, path)).status, 404, `${method} ${path}`);
    }
    const still = await asA('GET', `/v1/webhooks/${hid}`);
    assert.equal(still.status, 200);
    assert.equal(still.body.secret, undefined, 'the secret is shown only once');
    assert.equal((await asA('DELETE', `/v1/webhooks/${hid}`)).status, 204);
  });
});
