// The API behind the dashboard's Domains and SMTP users pages (issue 12), over real HTTP against an
// in-process API with a real store (SQLite, then PostgreSQL in a fresh database): add a domain and
// get its records, rotate its DKIM key (pending key + record; the old key keeps signing), add / list /
// remove SMTP users (the password never in an answer; the stored hash verifies it), with scopes,
// tenant isolation (another account's domain or user is a 404 and is never changed) and bad input
// (422 naming the field, 409 for a taken name).
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
  const store: QueueStore = openStore(config, logger, 'relay');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { admin: ['admin'], read: ['read'], send: ['send'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { admin: ['admin'] } });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });
  const as = (token: string) => (method: string, p: string, body?: unknown) => call(base, method, p, { token, body });
  const admin = as(acme.tokens.admin!), reader = as(acme.tokens.read!), sender = as(acme.tokens.send!), other = as(beta.tokens.admin!);

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
    assert.deepEqual(r.body, { name: 'app@acme', created_at: r.body.created_at, allowed_domains: ['acme.test'], any_domain: false, default_stream: 'transactional' });
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
}
