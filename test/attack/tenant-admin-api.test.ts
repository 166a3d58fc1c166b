// Attacker's pass over this session's admin routes (DELETE /v1/domains/:name, PATCH
// /v1/smtp-users/:name, PATCH /v1/accounts/:name), as a tenant's admin key or dashboard session
// trying to reach another tenant or the operator: the name in other spellings (case, trailing dot,
// U-label vs punycode, a parent or child domain), grants of another tenant's domain, fields the
// routes do not take (mass assignment), limits out of range, the operator-only PATCH through
// X-Postlane-Account or a non-admin key, a removed domain's grants, CSRF on PATCH and DELETE, and
// the __Host- session cookie over plain HTTP or with a forged X-Forwarded-Proto. All of that held;
// one thing did not: a tenant could add a domain the operator's SMTP user was granted (the
// single-tenant grant of a domain that is no sending domain), and that user then sent as the
// tenant's domain, signed with the tenant's key (domain-admin.ts now refuses it, 409). Over real HTTP against an in-process API, SQLite store.
import test from 'node:test';
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
import { hashPassword } from '../../src/users/password.js';
import { call, seedTenant } from '../helpers/api-fixture.js';

test('tenant admins cannot reach another tenant or the operator through the new admin routes', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-tenant-attack-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store = await openStore(config, logger, 'relay');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test', 'xn--bcher-kva.test'], keys: { admin: ['admin'] } });
  const evil = await seedTenant(store, { account: 'evil', domains: ['evil.test'], keys: { admin: ['admin'], send: ['send', 'read'] } });
  const ops = await seedTenant(store, { account: 'default', domains: [], keys: { admin: ['admin'], read: ['read', 'send'] } });
  const now = Date.now();
  await store.addUser({ name: 'acme-app', passwordHash: await hashPassword('acme-password'), createdAt: now, allowedDomains: ['acme.test'], anyDomain: false, account: 'acme', limits: { perHour: 10 }, defaultStream: 'transactional' });
  await store.addUser({ name: 'evil-app', passwordHash: await hashPassword('evil-password'), createdAt: now, allowedDomains: ['evil.test'], anyDomain: false, account: 'evil', limits: {}, defaultStream: 'transactional' });
  await store.addDashboardUser({ username: 'mallory', passwordHash: await hashPassword('mallory-password'), role: 'account', account: 'evil', createdAt: now, updatedAt: now });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });
  const as = (token: string) => (method: string, p: string, body?: unknown, headers?: Record<string, string>) => call(base, method, p, { token, body, headers });
  const mallory = as(evil.tokens.admin!), evilSender = as(evil.tokens.send!), operator = as(ops.tokens.admin!), opsReader = as(ops.tokens.read!);
  const acmeUser = async () => (await store.getUser('acme-app'))!;

  await t.test('DELETE another tenant\'s domain under any spelling is a 404 and removes nothing', async () => {
    for (const name of ['acme.test', 'ACME.TEST', 'acme.test.', '%20acme.test', 'b%C3%BCcher.test', 'B%C3%9CCHER.test', 'xn--bcher-kva.test', 'www.acme.test', 'test']) {
      const r = await mallory('DELETE', `/v1/domains/${name}`);
      assert.equal(r.status, 404, `${name}: ${r.text}`);
    }
    assert.ok(await store.getDomain('acme.test'));
    assert.ok(await store.getDomain('xn--bcher-kva.test'));
    assert.deepEqual((await acmeUser()).allowedDomains, ['acme.test'], 'the grant is untouched');
  });

  await t.test('PATCH another tenant\'s SMTP user is a 404 and changes nothing', async () => {
    const before = await acmeUser();
    for (const body of [{ limits: { perHour: null } }, { allowed_domains: ['evil.test'] }, { default_stream: 'broadcast' }]) {
      const r = await mallory('PATCH', '/v1/smtp-users/acme-app', body);
      assert.equal(r.status, 404, r.text);
    }
    assert.equal((await mallory('PATCH', '/v1/smtp-users/ACME-APP', { default_stream: 'broadcast' })).status, 404);
    assert.deepEqual(await acmeUser(), before);
  });

  await t.test('an own user cannot be granted another tenant\'s domain in any spelling, nor any domain, nor moved', async () => {
    for (const d of ['acme.test', 'ACME.test.', 'mail.acme.test', 'bücher.test', 'xn--bcher-kva.test', 'sub.xn--bcher-kva.test', 'relay.test', 'test.']) {
      const r = await mallory('PATCH', '/v1/smtp-users/evil-app', { allowed_domains: ['evil.test', d] });
      assert.equal(r.status, 422, `${d}: ${r.text}`);
      assert.ok(r.body.error.fields.some((f: { path: string }) => f.path === 'allowed_domains.1'), r.text);
    }
    for (const body of [{ any_domain: true }, { account: 'acme' }, { name: 'acme-app' }, { password: 'new-password-123' }, { limits: { perHour: 5, perWeek: 1 } }]) {
      const r = await mallory('PATCH', '/v1/smtp-users/evil-app', body);
      assert.equal(r.status, 422, `${JSON.stringify(body)}: ${r.text}`);
    }
    const u = (await store.getUser('evil-app'))!;
    assert.deepEqual([u.allowedDomains, u.anyDomain, u.account], [['evil.test'], false, 'evil']);
    const created = await mallory('POST', '/v1/smtp-users', { name: 'evil-2', password: 'evil-password-2', allowed_domains: ['Acme.Test.'] });
    assert.equal(created.status, 422, created.text);
  });

  await t.test('limits out of range are refused, never stored', async () => {
    for (const v of [-1, 1.5, 1e13, '5', true, Number.MAX_SAFE_INTEGER]) {
      const r = await mallory('PATCH', '/v1/smtp-users/evil-app', { limits: { perSecond: v } });
      assert.equal(r.status, 422, `${v}: ${r.text}`);
      const o = await operator('PATCH', '/v1/accounts/evil', { limits: { perSecond: v } });
      assert.equal(o.status, 422, `${v}: ${o.text}`);
    }
    assert.deepEqual((await store.getUser('evil-app'))!.limits, {});
    assert.deepEqual((await store.getAccount('evil'))!.limits, {});
  });

  await t.test('the plan is the operator\'s alone: not a tenant admin, not a header, not a non-admin operator key', async () => {
    for (const [who, headers] of [[mallory, {}], [mallory, { 'x-postlane-account': 'default' }], [evilSender, {}], [opsReader, {}]] as const) {
      const r = await who('PATCH', '/v1/accounts/evil', { limits: { perDay: null, perHour: 1_000_000 } }, headers);
      assert.equal(r.status, 403, r.text);
    }
    assert.equal((await mallory('PATCH', '/v1/accounts/default', { limits: { perDay: 1 } })).status, 403);
    assert.deepEqual((await store.getAccount('evil'))!.limits, {});
    assert.equal((await operator('PATCH', '/v1/accounts/evil', { limits: { perDay: 100 }, name: 'default' })).status, 422, 'only limits');
    assert.equal((await operator('PATCH', '/v1/accounts/EVIL', { limits: { perDay: 100 } })).status, 404);
    const ok = await operator('PATCH', '/v1/accounts/evil', { limits: { perDay: 100 } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual((await store.getAccount('evil'))!.limits, { perDay: 100 });
  });

  await t.test('a dashboard session needs the CSRF token for PATCH and DELETE; the __Host- cookie is not read over plain HTTP', async () => {
    const login = await call(base, 'POST', '/v1/dashboard/login', { body: { username: 'mallory', password: 'mallory-password' } });
    assert.equal(login.status, 200, login.text);
    const cookie = /^(postlane_session=[^;]+)/.exec(login.headers.get('set-cookie')!)![1]!;
    const token = cookie.slice('postlane_session='.length);
    for (const [method, p, body] of [['PATCH', '/v1/smtp-users/evil-app', { default_stream: 'broadcast' }], ['DELETE', '/v1/domains/evil.test', undefined], ['PATCH', '/v1/accounts/evil', { limits: { perDay: 1 } }]] as const) {
      const r = await call(base, method, p, { body, headers: { cookie } });
      assert.equal(r.status, 403, `${method} ${p}: ${r.text}`);
      assert.equal(r.body.error.code, 'csrf_required');
    }
    assert.ok(await store.getDomain('evil.test'));
    // The session's own account, an X-Postlane-Account naming another: refused.
    const other = await call(base, 'PATCH', '/v1/smtp-users/acme-app', { body: { default_stream: 'broadcast' }, headers: { cookie, 'x-csrf-token': login.body.csrfToken, 'x-postlane-account': 'acme' } });
    assert.equal(other.status, 403, other.text);
    // Over plain HTTP only the bare name is a session, even when a peer (not a trusted proxy) says https.
    const hostOnly = await call(base, 'GET', '/v1/account', { headers: { cookie: `__Host-postlane_session=${token}` } });
    assert.equal(hostOnly.status, 401, hostOnly.text);
    const forged = await call(base, 'GET', '/v1/account', { headers: { cookie: `__Host-postlane_session=${token}`, 'x-forwarded-proto': 'https' } });
    assert.equal(forged.status, 401, forged.text);
    assert.equal((await call(base, 'GET', '/v1/account', { headers: { cookie } })).body.name, 'evil');
    assert.equal((await store.getUser('acme-app'))!.defaultStream, 'transactional');
  });

  await t.test('a domain granted to another account\'s user (the operator\'s, not a sending domain) cannot be added under or over it', async () => {
    const opsApp = await operator('POST', '/v1/smtp-users', { name: 'ops-app', password: 'ops-app-password', allowed_domains: ['shop.test', 'x.other.test'] });
    assert.equal(opsApp.status, 201, opsApp.text);
    const acmeAdmin = as(acme.tokens.admin!);
    for (const name of ['shop.test', 'mail.shop.test', 'other.test', 'x.other.test']) {
      const r = await acmeAdmin('POST', '/v1/domains', { name, key: 'ed25519' });
      assert.equal(r.status, 409, `${name}: the operator's user would send as it, signed with acme's key: ${r.text}`);
      assert.equal(r.body.error.code, 'domain_account');
      assert.equal(await store.getDomain(name), null);
    }
    assert.equal((await operator('PATCH', '/v1/smtp-users/ops-app', { allowed_domains: [] })).status, 200);
    assert.equal((await acmeAdmin('POST', '/v1/domains', { name: 'shop.test', key: 'ed25519' })).status, 201, 'once the grant is gone');
    assert.equal((await operator('PATCH', '/v1/smtp-users/ops-app', { allowed_domains: ['shop.test'] })).status, 422, 'and it cannot come back');
  });

  await t.test('removing a domain takes its grants (and its subdomains\') from the users; a later owner\'s domain stays out of reach', async () => {
    assert.equal((await mallory('POST', '/v1/domains', { name: 'mail.evil.test', key: 'ed25519' })).status, 201);
    assert.equal((await mallory('PATCH', '/v1/smtp-users/evil-app', { allowed_domains: ['evil.test', 'x.evil.test', 'mail.evil.test'] })).status, 200);
    assert.equal((await mallory('DELETE', '/v1/domains/mail.evil.test')).status, 204);
    assert.deepEqual((await store.getUser('evil-app'))!.allowedDomains, ['evil.test', 'x.evil.test']);
    assert.equal((await mallory('DELETE', '/v1/domains/EVIL.test.')).status, 204);
    assert.deepEqual((await store.getUser('evil-app'))!.allowedDomains, []);
    const acmeAdmin = as(acme.tokens.admin!);
    assert.equal((await acmeAdmin('POST', '/v1/domains', { name: 'evil.test', key: 'ed25519' })).status, 201, 'the freed name is another tenant\'s now');
    for (const d of ['evil.test', 'x.evil.test']) {
      const regrant = await mallory('PATCH', '/v1/smtp-users/evil-app', { allowed_domains: [d] });
      assert.equal(regrant.status, 422, regrant.text);
    }
    assert.equal((await mallory('DELETE', '/v1/domains/evil.test')).status, 404);
  });
});
