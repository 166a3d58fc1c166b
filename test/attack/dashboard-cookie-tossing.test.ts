// Attacker's pass (dashboard session fixation by cookie tossing): a sibling host (or a plain-HTTP
// man in the middle) can plant its own postlane_session cookie, e.g. with Path=/v1, which the
// browser sends before the victim's own. The relay must not pick one: two different session
// cookies are refused (401), so the victim never acts inside the attacker's account. Also checks
// that held: DELETE and a text/plain POST with the cookie but no CSRF token are 403.
// Over real HTTP against an in-process API with a SQLite store.
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

test('two session cookies are refused; no CSRF token, no change', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-toss-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store = await openStore(config, logger, 'relay');
  await store.open();
  await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: {} });
  await seedTenant(store, { account: 'evil', domains: ['evil.test'], keys: {} });
  const now = Date.now();
  await store.addDashboardUser({ username: 'ops', passwordHash: await hashPassword('ops-password'), role: 'account', account: 'acme', createdAt: now, updatedAt: now });
  await store.addDashboardUser({ username: 'mallory', passwordHash: await hashPassword('mallory-password'), role: 'account', account: 'evil', createdAt: now, updatedAt: now });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });

  const login = async (username: string) => {
    const r = await call(base, 'POST', '/v1/dashboard/login', { body: { username, password: `${username}-password` } });
    assert.equal(r.status, 200, r.text);
    return { cookie: /^(postlane_session=[^;]+)/.exec(r.headers.get('set-cookie')!)![1]!, csrf: r.body.csrfToken as string };
  };
  const victim = await login('ops');
  const planted = await login('mallory');

  const own = await call(base, 'GET', '/v1/account', { headers: { cookie: victim.cookie } });
  assert.equal(own.status, 200, own.text);
  const tossed = await call(base, 'GET', '/v1/account', { headers: { cookie: `${planted.cookie}; ${victim.cookie}` } });
  assert.equal(tossed.status, 401, `the victim's browser acted in account ${JSON.stringify(tossed.body?.name ?? tossed.body)}`);
  const session = await call(base, 'GET', '/v1/dashboard/session', { headers: { cookie: `${planted.cookie}; ${victim.cookie}` } });
  assert.equal(session.status, 401, 'the dashboard must not show the planted session as the victim\'s');
  const same = await call(base, 'GET', '/v1/account', { headers: { cookie: `${victim.cookie}; ${victim.cookie}` } });
  assert.equal(same.status, 200, 'the same cookie twice is no conflict');

  // Held: state-changing requests need the CSRF token whatever their method or content type.
  const del = await call(base, 'DELETE', '/v1/suppressions/ann%40x.test', { headers: { cookie: victim.cookie } });
  assert.equal(del.status, 403);
  assert.equal(del.body.error.code, 'csrf_required');
  const plain = await call(base, 'POST', '/v1/suppressions/import', { body: '{"csv":"a@b.test"}', headers: { cookie: victim.cookie, 'content-type': 'text/plain' } });
  assert.equal(plain.status, 403);
  assert.equal((await store.listSuppressions({ account: 'acme', limit: 10 })).length, 0);
});
