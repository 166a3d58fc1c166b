// Attack pass, thirtieth session: tenant isolation route by route, beyond test/e2e/api-isolation
// (messages, events, keys, domains, webhooks) and tenant-admin-api (the admin PATCH/DELETE routes).
// Beta's admin key aims at alpha's objects by id on every remaining route: a message's timeline,
// content and bulk actions, webhook replay of alpha's event ids into beta's own webhook, the
// suppression list (read, search, export, remove), a domain's key rotation and DNS check, SMTP users
// (list, remove), stats, queue, breakers and accounts with
// ?account=alpha, the operator's routes (sources, providers, account plans, breaker resume), and
// X-Postlane-Account with a bearer key (a dashboard-session header). All held; kept because each
// route scopes its own reads (a new route, or a store query losing its account filter, would leak).
// Over real HTTP to a relay process, SQLite store.
import test from 'node:test';
import assert from 'node:assert/strict';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { call, seedRelayTenant } from '../helpers/api-fixture.js';

test('beta\'s admin key reaches none of alpha\'s objects on the remaining routes', async (t) => {
  const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] }, webhooks: { allowPrivateDestinations: true } });
  t.after(() => relay.cleanup());
  const a = await seedRelayTenant(relay, { account: 'alpha', domains: ['alpha.test'], keys: { admin: ['admin'], read: ['read'] } });
  const b = await seedRelayTenant(relay, { account: 'beta', domains: ['beta.test'], keys: { admin: ['admin'], send: ['send'] } });
  await relay.start();
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const asA = (method: string, path: string, body?: unknown) => call(base, method, path, { token: a.tokens.admin!, body });
  const asB = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => call(base, method, path, { token: b.tokens.admin!, body, headers });

  const sent = await asA('POST', '/v1/messages', { from: 'news@alpha.test', to: ['victim@far.test'], subject: 'alpha secret subject', text: 'alpha body' });
  assert.equal(sent.status, 202, sent.text);
  const id: string = sent.body.id;
  const alphaEvents = await eventually(async () => {
    const r = await asA('GET', `/v1/events?message_id=${id}`);
    return r.body.data.length > 0 ? (r.body.data as { id: string }[]) : null;
  });
  const suppressed = await asA('POST', '/v1/suppressions', { suppressions: [{ email: 'secret-list@far.test' }] });
  assert.ok(suppressed.status < 300, suppressed.text);

  await t.test('a message: timeline, content and every bulk action are not found, and change nothing', async () => {
    assert.equal((await asA('GET', `/v1/messages/${id}/timeline`)).status, 200);
    for (const path of [`/v1/messages/${id}/timeline`, `/v1/messages/${id}/content`]) {
      const r = await asB('GET', path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.text.includes('alpha'), path);
    }
    for (const action of ['hold', 'release', 'retry', 'delete']) {
      const r = await asB('POST', '/v1/messages/bulk', { action, ids: [id] });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.results, [{ id, status: 'not_found', recipients: 0 }], action);
    }
    const still = await asA('GET', `/v1/messages/${id}`);
    assert.equal(still.status, 200, 'not deleted');
    assert.ok(still.body.recipients.every((r: { status: string }) => r.status !== 'held'), 'not held');
  });

  await t.test('webhook replay: alpha\'s event ids into beta\'s own webhook queue nothing; a window is beta\'s events only', async () => {
    const hook = await asB('POST', '/v1/webhooks', { url: 'http://127.0.62.9:9/hook' });
    assert.equal(hook.status, 201);
    const byIds = await asB('POST', `/v1/webhooks/${hook.body.id}/replay`, { event_ids: alphaEvents.map((e) => e.id) });
    assert.equal(byIds.status, 202);
    assert.equal(byIds.body.queued, 0);
    const window = await asB('POST', `/v1/webhooks/${hook.body.id}/replay`, { since: new Date(Date.now() - 3_600_000).toISOString() });
    assert.equal(window.body.queued, 0, 'beta has no events');
    const alphaHook = await asA('POST', '/v1/webhooks', { url: 'http://127.0.62.9:9/a' });
    assert.equal((await asB('POST', `/v1/webhooks/${alphaHook.body.id}/replay`, { event_ids: [alphaEvents[0]!.id] })).status, 404);
  });

  await t.test('suppressions: read, search, export and remove see only beta\'s list', async () => {
    assert.equal((await asB('GET', '/v1/suppressions/secret-list@far.test')).status, 404);
    assert.deepEqual((await asB('GET', '/v1/suppressions?search=secret')).body.data, []);
    const csv = await asB('GET', '/v1/suppressions/export');
    assert.equal(csv.status, 200);
    assert.ok(!csv.text.includes('secret-list'), csv.text);
    assert.equal((await asB('DELETE', '/v1/suppressions/secret-list@far.test')).status, 404);
    assert.equal((await asA('GET', '/v1/suppressions/secret-list@far.test')).status, 200, 'still suppressed for alpha');
  });

  await t.test('stats, queue, breakers and accounts: ?account=alpha is 403; unfiltered shows beta alone', async () => {
    for (const path of ['/v1/stats?account=alpha', '/v1/stats?account=*', '/v1/queue?account=alpha', '/v1/queue?account=*', '/v1/breakers?account=alpha']) {
      assert.equal((await asB('GET', path)).status, 403, path);
    }
    assert.deepEqual((await asB('GET', '/v1/accounts')).body.data.map((x: { name: string }) => x.name), ['beta']);
    const queue = await asB('GET', '/v1/queue');
    assert.equal(queue.body.account, 'beta');
    assert.equal(queue.body.depth, 0);
    const alerts = await asB('GET', '/v1/alerts');
    assert.equal(alerts.status, 200);
    assert.ok(!alerts.text.includes('alpha'), alerts.text);
  });

  await t.test('the operator\'s routes refuse a tenant admin', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/sources', undefined], ['POST', '/v1/sources', { name: 's1', address: '127.0.62.5', ehlo: 'x.test', force: true }],
      ['POST', '/v1/sources/default/pause', undefined], ['GET', '/v1/queue/providers', undefined],
      ['PATCH', '/v1/accounts/beta', { limits: { perDay: null } }], ['POST', '/v1/breakers/1/resume', { reason: 'mine' }],
    ] as const) {
      assert.equal((await asB(method, path, body)).status, 403, `${method} ${path}`);
    }
  });

  await t.test('domains and SMTP users: key rotation, the DNS check, listing and removal of alpha\'s are not found', async () => {
    assert.equal((await asB('POST', '/v1/domains/alpha.test/keys', {})).status, 404);
    assert.equal((await asB('GET', '/v1/domains/alpha.test/check')).status, 404);
    assert.equal((await asA('POST', '/v1/smtp-users', { name: 'alpha-app', password: 'alpha-password-1', allowed_domains: ['alpha.test'] })).status, 201);
    assert.deepEqual((await asB('GET', '/v1/smtp-users')).body.data, []);
    assert.equal((await asB('DELETE', '/v1/smtp-users/alpha-app')).status, 404);
    assert.equal((await asA('GET', '/v1/smtp-users')).body.data.length, 1, 'still there');
    const keys = await asA('GET', '/v1/domains/alpha.test');
    assert.equal(keys.body.records.filter((r: { purpose: string }) => r.purpose === 'dkim').length, 1, 'no key added by beta');
  });

  await t.test('X-Postlane-Account is a dashboard-session header: with a bearer key it changes nothing', async () => {
    const r = await asB('GET', '/v1/messages', undefined, { 'x-postlane-account': 'alpha' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, []);
    assert.equal((await asB('GET', `/v1/messages/${id}`, undefined, { 'x-postlane-account': 'alpha' })).status, 404);
  });

  await t.test('scopes: a read key changes nothing, a send key administers nothing', async () => {
    const read = (method: string, path: string, body?: unknown) => call(base, method, path, { token: a.tokens.read!, body });
    const send = (method: string, path: string, body?: unknown) => call(base, method, path, { token: b.tokens.send!, body });
    assert.equal((await read('POST', '/v1/messages', { from: 'x@alpha.test', to: ['y@far.test'], text: 'x' })).status, 403);
    assert.equal((await read('POST', '/v1/suppressions', { suppressions: [{ email: 'z@far.test' }] })).status, 403);
    assert.equal((await read('POST', '/v1/messages/bulk', { action: 'delete', ids: [id] })).status, 403);
    assert.equal((await read('GET', '/v1/keys')).status, 403);
    for (const [method, path] of [['GET', '/v1/keys'], ['POST', '/v1/keys'], ['POST', '/v1/webhooks'], ['POST', '/v1/domains'], ['DELETE', '/v1/suppressions/a@b.test'], ['POST', '/v1/messages/bulk']] as const) {
      assert.equal((await send(method, path, method === 'GET' || method === 'DELETE' ? undefined : {})).status, 403, `${method} ${path}`);
    }
  });
});
