// The API behind the dashboard's Domains and SMTP users pages (issue 12), over real HTTP against an
// in-process API with a real store (SQLite, then PostgreSQL in a fresh database): add a domain and
// get its records, rotate its DKIM key (pending key + record; the old key keeps signing), add / list /
// remove SMTP users (the password never in an answer; the stored hash verifies it), change a user's
// domains, limits and stream, remove a domain (its users' grants within it go too), change an
// account's plan (the operator only), with scopes, tenant isolation (another account's domain or
// user is a 404 and is never changed) and bad input (422 naming the field, 409 for a taken name).
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';
import { startApi } from '../../src/http/index.js';
import { openStore } from '../../src/store/open-store.js';
import type { QueueStore } from '../../src/store/store.js';
import { verifyPassword } from '../../src/users/password.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, requireTools } from '../helpers/require-tool.js';

test('domains and SMTP users API (SQLite store)', (t) => suite(t, null));

test('domains and SMTP users API (PostgreSQL store)', async (t) => {
  if (!(await requireTools(t, TOOLS.postgres))) return;
  await suite(t, await freshDatabase(t, 'postlane_adminapi'));
});

async function suite(t: TestContext, pgUrl: string | null) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-adminapi-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, storage: { url: pgUrl }, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store: QueueStore = await openStore(config, logger, 'relay');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { admin: ['admin'], read: ['read'], send: ['send'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { admin: ['admin'] } });
  const ops = await seedTenant(store, { account: 'default', domains: [], keys: { admin: ['admin'], read: ['read'] } });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });
  const as = (token: string) => (method: string, p: string, body?: unknown) => call(base, method, p, { token, body });
  const admin = as(acme.tokens.admin!), reader = as(acme.tokens.read!), sender = as(acme.tokens.send!), other = as(beta.tokens.admin!);
  const operator = as(ops.tokens.admin!), opsReader = as(ops.tokens.read!);

  await t.test('POST /v1/domains adds the domain to the caller\'s account and answers the records to publish', async () => {
    const r = await admin('POST', '/v1/domains', { name: 'News.Acme.TEST', key: 'ed25519', selector: 'k1' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.name, 'news.acme.test');
    assert.deepEqual(r.body.dkim, [{ selector: 'k1', algorithm: 'ed25519', state: 'active' }]);
    const dkim = r.body.records.find((x: { purpose: string }) => x.purpose === 'dkim');
    assert.equal(dkim.name, 'k1._domainkey.news.acme.test');
    assert.match(dkim.value, /^v=DKIM1; k=ed25519; p=/);
    assert.ok(r.body.records.some((x: { purpose: string }) => x.purpose === 'spf'));
    assert.ok(!r.text.includes('PRIVATE KEY'), 'never the private key');
    assert.equal((await store.getDomain('news.acme.test'))!.account, 'acme');
    assert.deepEqual((await other('GET', '/v1/domains')).body.data.map((d: { name: string }) => d.name), ['beta.test']);
  });

  await t.test('POST /v1/domains: bad input is a 422 naming the field; a taken name or another account\'s subtree a 409; scopes', async () => {
    for (const [body, field] of [[{ name: 'not a domain' }, 'name'], [{ name: 'localhost' }, 'name'], [{}, 'name'], [{ name: 'x.acme.test', key: 'dsa' }, 'key'],
      [{ name: 'x.acme.test', selector: 'bad selector' }, 'selector'], [{ name: 'x.acme.test', extra: 1 }, 'extra']] as const) {
      const r = await admin('POST', '/v1/domains', body);
      assert.equal(r.status, 422, `${JSON.stringify(body)}: ${r.text}`);
      assert.ok(r.body.error.fields.some((f: { path: string }) => f.path === field), r.text);
    }
    assert.equal((await admin('POST', '/v1/domains', { name: 'acme.test' })).body.error.code, 'domain_exists');
    const taken = await admin('POST', '/v1/domains', { name: 'beta.test' });
    assert.equal(taken.status, 409);
    const inside = await admin('POST', '/v1/domains', { name: 'mail.beta.test' });
    assert.equal(inside.status, 409);
    assert.equal(inside.body.error.code, 'domain_account');
    assert.equal(await store.getDomain('mail.beta.test'), null);
    assert.equal((await reader('POST', '/v1/domains', { name: 'r.acme.test' })).status, 403);
    assert.equal((await sender('POST', '/v1/domains', { name: 's.acme.test' })).status, 403);
    assert.equal((await call(base, 'POST', '/v1/domains', { body: { name: 'n.acme.test' } })).status, 401);
  });

  await t.test('POST /v1/domains/:name/keys: a pending key with its record; the active key keeps signing; a second rotation waits', async () => {
    const r = await admin('POST', '/v1/domains/acme.test/keys', { selector: 'k2' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.keys, [{ selector: 'k2', algorithm: 'ed25519', state: 'pending' }]);
    assert.equal(r.body.records.length, 1);
    assert.equal(r.body.records[0].name, 'k2._domainkey.acme.test');
    const states = (await store.getDomain('acme.test'))!.keys.map((k) => `${k.selector}:${k.state}`);
    assert.deepEqual(states, ['s1:active', 'k2:pending']);
    const again = await admin('POST', '/v1/domains/acme.test/keys', {});
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'rotation_pending');
    assert.equal((await admin('POST', '/v1/domains/news.acme.test/keys', { selector: 'k1' })).body.error.code, 'selector_exists');
    assert.equal((await admin('POST', '/v1/domains/beta.test/keys', {})).status, 404, 'another account\'s domain');
    assert.deepEqual((await store.getDomain('beta.test'))!.keys.map((k) => k.state), ['active']);
    assert.equal((await admin('POST', '/v1/domains/acme.test/keys', { selector: '-x-' })).status, 422);
    assert.equal((await reader('POST', '/v1/domains/acme.test/keys', {})).status, 403);
  });

  await t.test('SMTP users: add (password hashed, never answered), list per account, remove; isolation and bad input', async () => {
    const r = await admin('POST', '/v1/smtp-users', { name: 'app@acme', password: 'correct horse battery', allowed_domains: ['acme.test'] });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body, { name: 'app@acme', created_at: r.body.created_at, allowed_domains: ['acme.test'], any_domain: false, default_stream: 'transactional', limits: {} });
    assert.ok(!r.text.includes('correct horse'));
    const stored = (await store.getUser('app@acme'))!;
    assert.equal(stored.account, 'acme');
    assert.ok(await verifyPassword('correct horse battery', stored.passwordHash));
    const list = await reader('GET', '/v1/smtp-users');
    assert.deepEqual(list.body.data.map((u: { name: string }) => u.name), ['app@acme']);
    assert.ok(!list.text.includes('scrypt') && !list.text.includes('password'));
    assert.deepEqual((await other('GET', '/v1/smtp-users')).body.data, []);

    for (const [body, field] of [[{ name: 'x', password: 'short' }, 'password'], [{ name: 'bad name', password: 'long enough!' }, 'name'],
      [{ password: 'long enough!' }, 'name'], [{ name: 'y', password: 'long enough!', allowed_domains: ['beta.test'] }, 'allowed_domains.0'],
      [{ name: 'y', password: 'long enough!', allowed_domains: ['acme.test', 'nope.example'] }, 'allowed_domains.1'],
      [{ name: 'y', password: 'long enough!', allowed_domains: ['a b'] }, 'allowed_domains.0'], [{ name: 'y', password: 'long enough!', any_domain: true }, 'any_domain']] as const) {
      const bad = await admin('POST', '/v1/smtp-users', body);
      assert.equal(bad.status, 422, `${JSON.stringify(body)}: ${bad.text}`);
      assert.ok(bad.body.error.fields.some((f: { path: string }) => f.path === field), bad.text);
    }
    assert.equal(await store.getUser('y'), null);
    const dup = await other('POST', '/v1/smtp-users', { name: 'app@acme', password: 'another password' });
    assert.equal(dup.status, 409);
    assert.ok(await verifyPassword('correct horse battery', (await store.getUser('app@acme'))!.passwordHash), 'unchanged');
    assert.equal((await reader('POST', '/v1/smtp-users', { name: 'z', password: 'long enough!' })).status, 403);
    assert.equal((await reader('DELETE', '/v1/smtp-users/app@acme')).status, 403);
    assert.equal((await other('DELETE', '/v1/smtp-users/app@acme')).status, 404, 'another account\'s user');
    assert.ok(await store.getUser('app@acme'));
    assert.equal((await admin('DELETE', '/v1/smtp-users/app@acme')).status, 204);
    assert.equal(await store.getUser('app@acme'), null);
    assert.equal((await admin('DELETE', '/v1/smtp-users/app@acme')).status, 404);
  });

  await t.test('PATCH /v1/smtp-users/:name changes the domains, own limits and stream; what is absent stays; isolation and bad input', async () => {
    await admin('POST', '/v1/domains', { name: 'shop.test', key: 'ed25519' });
    assert.equal((await admin('POST', '/v1/smtp-users', { name: 'edit@acme', password: 'long enough!', allowed_domains: ['acme.test'] })).status, 201);
    const r = await admin('PATCH', '/v1/smtp-users/edit@acme', { allowed_domains: ['Shop.TEST', 'news.acme.test'], limits: { perHour: 100, perDay: 1000 }, default_stream: 'broadcast' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...r.body, created_at: null }, {
      name: 'edit@acme', created_at: null, allowed_domains: ['news.acme.test', 'shop.test'], any_domain: false, default_stream: 'broadcast', limits: { perHour: 100, perDay: 1000 },
    });
    const limitsOnly = await admin('PATCH', '/v1/smtp-users/edit@acme', { limits: { perHour: null, perSecond: 5 } });
    assert.deepEqual(limitsOnly.body.limits, { perSecond: 5, perDay: 1000 }, 'null clears a window, the unnamed ones stay');
    assert.deepEqual(limitsOnly.body.allowed_domains, ['news.acme.test', 'shop.test']);
    assert.equal(limitsOnly.body.default_stream, 'broadcast');
    const stored = (await store.getUser('edit@acme'))!;
    assert.deepEqual([stored.allowedDomains, stored.limits, stored.defaultStream], [['news.acme.test', 'shop.test'], { perSecond: 5, perDay: 1000 }, 'broadcast']);
    assert.ok(await verifyPassword('long enough!', stored.passwordHash), 'the password is untouched');
    assert.deepEqual((await admin('PATCH', '/v1/smtp-users/edit@acme', {})).body.limits, { perSecond: 5, perDay: 1000 }, 'an empty change changes nothing');

    for (const [body, field] of [[{ allowed_domains: ['beta.test'] }, 'allowed_domains.0'], [{ allowed_domains: ['acme.test', 'mail.beta.test'] }, 'allowed_domains.1'],
      [{ allowed_domains: ['nope.example'] }, 'allowed_domains.0'], [{ allowed_domains: ['a b'] }, 'allowed_domains.0'], [{ limits: { perHour: -1 } }, 'limits.perHour'],
      [{ limits: { perWeek: 1 } }, 'limits.perWeek'], [{ default_stream: 'bulk' }, 'default_stream'], [{ any_domain: true }, 'any_domain'], [{ password: 'new password!' }, 'password']] as const) {
      const bad = await admin('PATCH', '/v1/smtp-users/edit@acme', body);
      assert.equal(bad.status, 422, `${JSON.stringify(body)}: ${bad.text}`);
      assert.ok(bad.body.error.fields.some((f: { path: string }) => f.path === field), bad.text);
    }
    const other404 = await other('PATCH', '/v1/smtp-users/edit@acme', { allowed_domains: ['beta.test'], default_stream: 'transactional' });
    assert.equal(other404.status, 404, 'another account\'s user');
    assert.equal(other404.body.error.code, 'not_found');
    assert.equal((await admin('PATCH', '/v1/smtp-users/nobody', { default_stream: 'transactional' })).status, 404);
    assert.equal((await reader('PATCH', '/v1/smtp-users/edit@acme', { default_stream: 'transactional' })).status, 403);
    assert.equal((await sender('PATCH', '/v1/smtp-users/edit@acme', { default_stream: 'transactional' })).status, 403);
    const after = (await store.getUser('edit@acme'))!;
    assert.deepEqual([after.allowedDomains, after.limits, after.defaultStream], [['news.acme.test', 'shop.test'], { perSecond: 5, perDay: 1000 }, 'broadcast'], 'unchanged by the refused calls');
  });

  await t.test('DELETE /v1/domains/:name removes the domain and its users\' grants within it; another account\'s is a 404; scopes', async () => {
    assert.equal((await reader('DELETE', '/v1/domains/shop.test')).status, 403);
    assert.equal((await sender('DELETE', '/v1/domains/shop.test')).status, 403);
    assert.equal((await call(base, 'DELETE', '/v1/domains/shop.test')).status, 401);
    const theirs = await other('DELETE', '/v1/domains/shop.test');
    assert.equal(theirs.status, 404, 'another account\'s domain');
    assert.ok(await store.getDomain('shop.test'), 'still there');
    assert.equal((await admin('DELETE', '/v1/domains/beta.test')).status, 404);
    assert.ok(await store.getDomain('beta.test'));

    const r = await admin('DELETE', '/v1/domains/Shop.Test');
    assert.equal(r.status, 204, r.text);
    assert.equal(await store.getDomain('shop.test'), null);
    assert.deepEqual((await store.getUser('edit@acme'))!.allowedDomains, ['news.acme.test'], 'the grant of the removed domain is gone');
    assert.ok(!(await admin('GET', '/v1/domains')).body.data.some((d: { name: string }) => d.name === 'shop.test'));
    assert.equal((await admin('DELETE', '/v1/domains/shop.test')).status, 404);
    assert.equal((await admin('GET', '/v1/domains/shop.test')).status, 404);
    // Freed, the name may be taken by another account, and acme's user cannot send as it.
    assert.equal((await other('POST', '/v1/domains', { name: 'shop.test' })).status, 201);
    assert.equal((await admin('PATCH', '/v1/smtp-users/edit@acme', { allowed_domains: ['shop.test'] })).status, 422);

    await admin('PATCH', '/v1/smtp-users/edit@acme', { allowed_domains: ['acme.test', 'news.acme.test'] });
    assert.equal((await admin('DELETE', '/v1/domains/news.acme.test')).status, 204);
    assert.deepEqual((await store.getUser('edit@acme'))!.allowedDomains, ['acme.test'], 'a grant of the parent stays');
  });

  await t.test('PATCH /v1/accounts/:name changes a plan: the operator only (403 for anyone else, whichever account), 404 for none', async () => {
    const r = await operator('PATCH', '/v1/accounts/acme', { limits: { perDay: 500, perMonth: 10000 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'acme');
    assert.deepEqual(r.body.limits, { perDay: 500, perMonth: 10000 });
    assert.deepEqual(r.body.usage.map((u: { window: string; limit: number }) => [u.window, u.limit]), [['day', 500], ['month', 10000]]);
    const merged = await operator('PATCH', '/v1/accounts/acme', { limits: { perMonth: null, perSecond: 3 } });
    assert.deepEqual(merged.body.limits, { perSecond: 3, perDay: 500 });
    assert.deepEqual((await store.getAccount('acme'))!.limits, { perSecond: 3, perDay: 500 });
    assert.deepEqual((await admin('GET', '/v1/account')).body.limits, { perSecond: 3, perDay: 500 }, 'the account sees its new plan');

    for (const [who, name] of [[admin, 'acme'], [admin, 'beta'], [admin, 'nobody'], [other, 'acme'], [opsReader, 'acme']] as const) {
      const refused = await who('PATCH', `/v1/accounts/${name}`, { limits: { perDay: 1 } });
      assert.equal(refused.status, 403, `${name}: ${refused.text}`);
    }
    assert.equal((await call(base, 'PATCH', '/v1/accounts/acme', { body: { limits: { perDay: 1 } } })).status, 401);
    assert.deepEqual((await store.getAccount('acme'))!.limits, { perSecond: 3, perDay: 500 }, 'unchanged by the refused calls');
    assert.deepEqual((await store.getAccount('beta'))!.limits, {});

    assert.equal((await operator('PATCH', '/v1/accounts/nobody', { limits: { perDay: 1 } })).status, 404);
    for (const [body, field] of [[{ limits: { perDay: 1.5 } }, 'limits.perDay'], [{ limits: { perDay: '10' } }, 'limits.perDay'], [{}, 'limits'],
      [{ limits: {}, name: 'x' }, 'name']] as const) {
      const bad = await operator('PATCH', '/v1/accounts/acme', body);
      assert.equal(bad.status, 422, `${JSON.stringify(body)}: ${bad.text}`);
      assert.ok(bad.body.error.fields.some((f: { path: string }) => f.path === field), bad.text);
    }
    assert.equal((await operator('PATCH', '/v1/accounts/Not%20A%20Name', { limits: {} })).status, 404);
  });
}
