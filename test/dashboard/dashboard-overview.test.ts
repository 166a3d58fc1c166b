// The dashboard overview's routes (issue 12) over real HTTP with a session cookie, against an
// in-process API with a SQLite store and a test DNS server: GET /v1/queue (depth by state and
// domain, the oldest's age; every account only for the operator), GET /v1/domains/:name/check
// (each record looked up: the published DKIM key ok, the rest missing, with fixes) and
// GET /v1/alerts (domains with wrong DNS, a disabled webhook, the relay certificate close to
// expiry for the operator only; nothing about other accounts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Clock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';
import { startApi } from '../../src/http/index.js';
import { openStore } from '../../src/store/open-store.js';
import { createSelfSigned } from '../../src/tls/certificates.js';
import { hashPassword } from '../../src/users/password.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { startDnsServer } from '../helpers/dns-server.js';

const DAY = 86_400_000;

test('queue overview, domain checks and alerts for the dashboard', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-dashov-'));
  const dns = await startDnsServer();
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0 }, dns: { servers: [`127.0.0.1:${dns.port}`], timeout: '2s' } });
  const logger = pino({ level: 'silent' });
  const store = await openStore(config, logger, 'relay');
  await store.open();
  const tls = await createSelfSigned('relay.test');
  const validTo = Date.parse(new X509Certificate(tls.cert).validTo);
  const clock: Clock = { now: () => Math.max(Date.now(), validTo - 5 * DAY) }; // five days before the certificate expires
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { send: ['send'] } });
  for (const [name, value] of acme.dkim) dns.set(name, 'TXT', [value.match(/.{1,250}/g)!]);
  const now = Date.now();
  await store.addDashboardUser({ username: 'ops', passwordHash: await hashPassword('ops-password'), role: 'account', account: 'acme', createdAt: now, updatedAt: now });
  await store.addDashboardUser({ username: 'root', passwordHash: await hashPassword('root-password'), role: 'admin', account: null, createdAt: now, updatedAt: now });
  await store.addWebhook({ id: 'wh_1', account: 'acme', url: 'https://hooks.acme.test/in', events: [], secret: 's'.repeat(32), enabled: true, createdAt: now, disabledAt: null, disabledReason: null });
  await store.setWebhookEnabled('acme', 'wh_1', false, 'failed for 3 days', now);
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock, logger });
  const api = (await startApi({ config, store, clock, logger, tls, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await dns.close(); await fs.rm(dir, { recursive: true, force: true }); });

  const session = async (username: string) => {
    const r = await call(base, 'POST', '/v1/dashboard/login', { body: { username, password: `${username}-password` } });
    const cookie = /^(postlane_session=[^;]+)/.exec(r.headers.get('set-cookie')!)![1]!;
    return (method: string, p: string, body?: unknown) => call(base, method, p, { body, headers: { cookie, 'x-csrf-token': r.body.csrfToken } });
  };
  const ops = await session('ops');
  const root = await session('root');
  const send = async (token: string, from: string, to: string[]) => {
    const r = await call(base, 'POST', '/v1/messages', { token, body: { from, to, subject: 'hi', text: 'hello' } });
    assert.equal(r.status, 202, r.text);
    return r.body.id as string;
  };
  await send(acme.tokens.send, 'app@acme.test', ['a@gmail.test', 'b@gmail.test', 'c@yahoo.test']);
  const held = await send(acme.tokens.send, 'app@acme.test', ['d@gmail.test']);
  await send(beta.tokens.send, 'app@beta.test', ['e@outlook.test']);
  assert.equal((await ops('POST', '/v1/messages/bulk', { action: 'hold', ids: [held] })).status, 200);

  await t.test('GET /v1/queue: depth by state and domain, the oldest\'s age; all accounts only for the operator', async () => {
    const q = await ops('GET', '/v1/queue');
    assert.equal(q.status, 200);
    assert.equal(q.body.account, 'acme');
    assert.equal(q.body.depth, 4);
    assert.deepEqual(q.body.by_state, { queued: 3, deferred: 0, delivering: 0, held: 1 });
    assert.ok(q.body.oldest_age_seconds >= 0);
    assert.deepEqual(q.body.by_domain.map((d: Record<string, unknown>) => [d.domain, d.recipients, d.held]), [['gmail.test', 3, 1], ['yahoo.test', 1, 0]]);
    assert.equal((await ops('GET', '/v1/queue?account=*')).status, 403);
    assert.equal((await ops('GET', '/v1/queue?domains=0')).status, 400);
    await send(acme.tokens.send, 'app@acme.test', ['g@gmail.test']);
    const again = await ops('GET', '/v1/queue');
    assert.equal(again.body.depth, 5, 'each request reads the counters anew: the new message counts at once');
    assert.ok(Date.parse(again.body.as_of) >= Date.parse(q.body.as_of));
    const all = await root('GET', '/v1/queue?account=*&domains=1');
    assert.equal(all.body.account, null);
    assert.equal(all.body.depth, 6);
    assert.deepEqual(all.body.by_domain.map((d: { domain: string }) => d.domain), ['gmail.test']);
  });

  await t.test('GET /v1/domains/:name/check: each record looked up in DNS, with the fix', async () => {
    const c = await ops('GET', '/v1/domains/acme.test/check');
    assert.equal(c.status, 200);
    assert.equal(c.body.ok, false);
    const byPurpose = new Map<string, { status: string; fix: string | null }>(c.body.checks.map((x: { purpose: string; status: string; fix: string | null }) => [x.purpose, x]));
    const dkim = c.body.checks.filter((x: { type: string; name: string }) => x.name.includes('_domainkey'));
    assert.ok(dkim.length > 0 && dkim.every((x: { status: string }) => x.status === 'ok'), 'the published DKIM key');
    const spf = [...byPurpose.entries()].find(([p]) => /spf/i.test(p))![1];
    assert.equal(spf.status, 'missing');
    assert.ok(spf.fix);
    assert.equal((await ops('GET', '/v1/domains/beta.test/check')).status, 404, 'another account\'s domain');
  });

  await t.test('GET /v1/alerts: wrong DNS, the disabled webhook, the certificate for the operator only', async () => {
    const a = await ops('GET', '/v1/alerts');
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.breakers, []);
    assert.deepEqual(a.body.webhooks, [{ id: 'wh_1', url: 'https://hooks.acme.test/in', problem: 'disabled', since: new Date(now).toISOString(), detail: 'failed for 3 days' }]);
    assert.deepEqual(a.body.domains.map((d: { name: string }) => d.name), ['acme.test']);
    assert.ok(a.body.domains[0].problems.every((p: { name: string }) => !p.name.includes('_domainkey')), 'the DKIM record is right');
    assert.equal(a.body.certificate, null, 'not the operator');
    const r = await root('GET', '/v1/alerts');
    assert.equal(r.body.certificate.days_left, 5);
    assert.match(r.body.certificate.subject, /relay\.test/);
    assert.deepEqual(r.body.webhooks, [], 'the default account has no webhooks: acme\'s are not shown');
  });
});
