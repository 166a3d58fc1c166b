// Dashboard login, sessions and CSRF (issue 12, dashboard contract) over real HTTP: an in-process
// API on a real socket with the SQLite store in a temp dir, then PostgreSQL in a fresh database;
// calls with fetch and with curl (a cookie jar, as a browser keeps it). Login sets an HttpOnly,
// SameSite=Strict cookie (named __Host-postlane_session and Secure behind a proxy saying https, where
// the bare name is not read, nor the __Host- one over plain HTTP); wrong credentials are 401; the
// cookie maps to the same principal as a key (an account user sees only its account, an admin
// picks one); non-GET without X-CSRF-Token is 403 and changes nothing; forged, idle and
// logged-out sessions are 401; failures lock out per address and per user name, also when the
// attempts arrive in parallel (429 + Retry-After). Time is moved with an injected clock.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { Clock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';
import { startApi } from '../../src/http/index.js';
import { openStore } from '../../src/store/open-store.js';
import type { QueueStore } from '../../src/store/store.js';
import { hashPassword } from '../../src/users/password.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, requireTools, toolPath } from '../helpers/require-tool.js';

const run = promisify(execFile);
const MINUTE = 60_000;

test('dashboard login, sessions and CSRF (SQLite store)', (t) => suite(t, null));

test('dashboard login, sessions and CSRF (PostgreSQL store)', async (t) => {
  if (!(await requireTools(t, TOOLS.postgres))) return;
  await suite(t, await freshDatabase(t, 'postlane_dash'));
});

interface Login { status: number; body: any; cookie: string | null; setCookie: string; retryAfter: string | null }

async function suite(t: TestContext, pgUrl: string | null) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-dash-'));
  const config = configSchema.parse({
    hostname: 'relay.test', dataDir: dir, storage: { url: pgUrl },
    http: { port: 0, trustProxy: true }, // X-Forwarded-For names the client: many addresses from one test
    smtp: { auth: { maxFailures: 3, failureDelay: '1ms', lockout: '15m' } },
  });
  const logger = pino({ level: 'silent' });
  const store: QueueStore = await openStore(config, logger, 'relay');
  await store.open();
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset };
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { send: ['send'] } });
  const now = Date.now();
  for (const [username, account] of [['root', null], ['ops', 'acme'], ['victim', 'acme']] as const) {
    await store.addDashboardUser({
      username, passwordHash: await hashPassword(`${username}-password`), role: account ? 'account' : 'admin', account, createdAt: now, updatedAt: now,
    });
  }
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock, logger });
  const api = (await startApi({ config, store, clock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });

  const mail = (domain: string) => ({ from: `app@${domain}`, to: ['bob@dest.test'], subject: 'hi', text: 'hello' });
  const acmeMessage = (await call(base, 'POST', '/v1/messages', { token: acme.tokens.send, body: mail('acme.test') })).body.id as string;
  const betaMessage = (await call(base, 'POST', '/v1/messages', { token: beta.tokens.send, body: mail('beta.test') })).body.id as string;
  assert.ok(acmeMessage && betaMessage, 'two messages queued with keys');

  const login = async (username: string, password: string, ip = '192.0.2.1', headers: Record<string, string> = {}): Promise<Login> => {
    const res = await call(base, 'POST', '/v1/dashboard/login', { body: { username, password }, headers: { 'x-forwarded-for': ip, ...headers } });
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = /^postlane_session=([^;]+)/.exec(setCookie)?.[1] ?? null;
    return { status: res.status, body: res.body, cookie: cookie ? `postlane_session=${cookie}` : null, setCookie, retryAfter: res.headers.get('retry-after') };
  };
  const withCookie = (cookie: string, method: string, p: string, opts: { csrf?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    call(base, method, p, { body: opts.body, headers: { cookie, ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}), ...opts.headers } });

  await t.test('wrong or unknown credentials are 401 invalid_credentials, and set no cookie', async () => {
    for (const [u, p] of [['ops', 'nope-nope-nope'], ['nobody', 'ops-password']]) {
      const r = await login(u!, p!, '198.51.100.1');
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'invalid_credentials');
      assert.equal(r.cookie, null);
    }
    const bad = await call(base, 'POST', '/v1/dashboard/login', { body: { username: 'ops' } });
    assert.equal(bad.status, 422);
    const form = await call(base, 'POST', '/v1/dashboard/login', { body: 'username=ops&password=ops-password', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415, 'a cross-site form cannot log anyone in');
    const huge = await call(base, 'POST', '/v1/dashboard/login', { body: { username: 'ops', password: 'x'.repeat(100_000) } });
    assert.equal(huge.status, 413, 'an anonymous client cannot make us read a large body');
    const long = await call(base, 'POST', '/v1/dashboard/login', { body: { username: 'ops', password: 'x'.repeat(2000) } });
    assert.equal(long.status, 422, 'passwords over 1024 characters are not hashed');
  });

  await t.test('login sets an HttpOnly SameSite=Strict cookie; the session answers the user and the CSRF token', async () => {
    const r = await login('ops', 'ops-password');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.user, { username: 'ops', role: 'account', account: 'acme' });
    assert.match(r.body.csrfToken, /^[A-Za-z0-9_-]{43}$/);
    assert.match(r.setCookie, /^postlane_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/, 'no Secure over plain HTTP');
    const s = await withCookie(r.cookie!, 'GET', '/v1/dashboard/session');
    assert.equal(s.status, 200);
    assert.deepEqual(s.body, r.body);
    const https = { 'x-forwarded-proto': 'https' };
    const secure = await login('ops', 'ops-password', '192.0.2.1', https);
    assert.match(secure.setCookie, /^__Host-postlane_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200; Secure$/,
      'over TLS (a trusted proxy says https): the __Host- name, Secure, Path=/ and no Domain');
    const hostCookie = /^(__Host-postlane_session=[^;]+)/.exec(secure.setCookie)![1]!;
    const bare = hostCookie.replace(/^__Host-/, '');
    assert.deepEqual((await withCookie(hostCookie, 'GET', '/v1/dashboard/session', { headers: https })).body.user, r.body.user);
    assert.equal((await withCookie(hostCookie, 'GET', '/v1/messages', { headers: https })).status, 200, 'the __Host- cookie authenticates /v1 over TLS');
    assert.equal((await withCookie(bare, 'GET', '/v1/dashboard/session', { headers: https })).status, 401, 'over TLS the bare name (which any sibling host can set) is not read');
    assert.equal((await withCookie(bare, 'GET', '/v1/messages', { headers: https })).status, 401);
    assert.equal((await withCookie(hostCookie, 'GET', '/v1/dashboard/session')).status, 401, 'over plain HTTP only the bare name is read');
    const out = await withCookie(hostCookie, 'POST', '/v1/dashboard/logout', { csrf: secure.body.csrfToken, headers: https });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^__Host-postlane_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0; Secure$/, 'logout clears the __Host- cookie');
    assert.equal((await withCookie(hostCookie, 'GET', '/v1/dashboard/session', { headers: https })).status, 401, 'ended');
    assert.equal((await call(base, 'GET', '/v1/dashboard/session')).status, 401);
  });

  await t.test('an account user reads its account only; an admin picks the account', async () => {
    const ops = await login('ops', 'ops-password');
    assert.equal((await withCookie(ops.cookie!, 'GET', `/v1/messages/${acmeMessage}`)).status, 200);
    const other = await withCookie(ops.cookie!, 'GET', `/v1/messages/${betaMessage}`);
    assert.equal(other.status, 404, 'another account\'s message is unknown');
    const list = await withCookie(ops.cookie!, 'GET', '/v1/messages');
    assert.deepEqual(list.body.data.map((m: { id: string }) => m.id), [acmeMessage]);
    const named = await withCookie(ops.cookie!, 'GET', '/v1/messages', { headers: { 'x-postlane-account': 'beta' } });
    assert.equal(named.status, 403);
    assert.equal(named.body.error.code, 'account_forbidden');
    const root = await login('root', 'root-password');
    assert.equal(root.body.user.role, 'admin');
    assert.equal((await withCookie(root.cookie!, 'GET', `/v1/messages/${betaMessage}`, { headers: { 'x-postlane-account': 'beta' } })).status, 200);
    assert.equal((await withCookie(root.cookie!, 'GET', `/v1/messages/${acmeMessage}`, { headers: { 'x-postlane-account': 'beta' } })).status, 404);
    assert.equal((await withCookie(root.cookie!, 'GET', '/v1/messages', { headers: { 'x-postlane-account': 'nosuch' } })).status, 404);
    assert.equal((await withCookie(root.cookie!, 'GET', '/v1/messages', { headers: { 'x-postlane-account': '../x' } })).status, 400);
  });

  await t.test('non-GET with a cookie needs the CSRF token: without it 403 and nothing queued', async () => {
    const ops = await login('ops', 'ops-password');
    const before = (await store.counts()).queued;
    const missing = await withCookie(ops.cookie!, 'POST', '/v1/messages', { body: mail('acme.test') });
    assert.equal(missing.status, 403);
    assert.equal(missing.body.error.code, 'csrf_required');
    const other = await login('ops', 'ops-password');
    const wrong = await withCookie(ops.cookie!, 'POST', '/v1/messages', { body: mail('acme.test'), csrf: other.body.csrfToken });
    assert.equal(wrong.status, 403, 'another session\'s token does not do');
    assert.equal((await store.counts()).queued, before, 'nothing queued');
    const ok = await withCookie(ops.cookie!, 'POST', '/v1/messages', { body: mail('acme.test'), csrf: ops.body.csrfToken });
    assert.equal(ok.status, 202);
    const keyAndCookie = await call(base, 'POST', '/v1/messages', { token: acme.tokens.send, body: mail('acme.test'), headers: { cookie: ops.cookie! } });
    assert.equal(keyAndCookie.status, 202, 'a bearer key wins over a cookie; key requests are unchanged');
  });

  await t.test('with curl and a cookie jar: login, read, CSRF-less POST refused', async (tt) => {
    if (!(await requireTools(tt, TOOLS.curl))) return;
    const curl = (await toolPath(TOOLS.curl))!;
    const jar = path.join(dir, 'cookies.txt');
    const body = JSON.stringify({ username: 'ops', password: 'ops-password' });
    const logged = await run(curl, ['-sS', '-c', jar, '-H', 'content-type: application/json', '-d', body, `${base}/v1/dashboard/login`]);
    const csrf = JSON.parse(logged.stdout).csrfToken as string;
    assert.match(await fs.readFile(jar, 'utf8'), /#HttpOnly_127\.0\.0\.1\tFALSE\t\/\tFALSE\t\d+\tpostlane_session\t/);
    const read = await run(curl, ['-sS', '-b', jar, '-w', '\n%{http_code}', `${base}/v1/messages/${acmeMessage}`]);
    assert.match(read.stdout, /\n200$/);
    const post = await run(curl, ['-sS', '-b', jar, '-w', '\n%{http_code}', '-H', 'content-type: application/json', '-d', JSON.stringify(mail('acme.test')), `${base}/v1/messages`]);
    assert.match(post.stdout, /"csrf_required"[\s\S]*\n403$/);
    const out = await run(curl, ['-sS', '-b', jar, '-c', jar, '-X', 'POST', '-H', `x-csrf-token: ${csrf}`, '-w', '%{http_code}', `${base}/v1/dashboard/logout`]);
    assert.equal(out.stdout, '204');
    const after = await run(curl, ['-sS', '-b', jar, '-w', '\n%{http_code}', `${base}/v1/messages/${acmeMessage}`]);
    assert.match(after.stdout, /\n401$/);
  });

  await t.test('forged and idle sessions are 401; use keeps a session alive', async () => {
    for (const cookie of [`postlane_session=${'A'.repeat(43)}`, 'postlane_session=short', 'postlane_session=', `postlane_session=${'x'.repeat(5000)}`]) {
      const r = await withCookie(cookie, 'GET', '/v1/messages');
      assert.equal(r.status, 401, cookie.slice(0, 40));
      assert.equal(r.body.error.code, 'invalid_session');
    }
    const ops = await login('ops', 'ops-password');
    offset += 20 * MINUTE;
    assert.equal((await withCookie(ops.cookie!, 'GET', '/v1/messages')).status, 200, 'used after 20 minutes');
    offset += 20 * MINUTE;
    assert.equal((await withCookie(ops.cookie!, 'GET', '/v1/messages')).status, 200, 'and again: 40 minutes since login');
    offset += 31 * MINUTE;
    const idle = await withCookie(ops.cookie!, 'GET', '/v1/messages');
    assert.equal(idle.status, 401, 'idle for 31 minutes: ended');
    assert.equal((await withCookie(ops.cookie!, 'GET', '/v1/dashboard/session')).status, 401);
  });

  await t.test('logout needs the CSRF token, clears the cookie and ends the session; a new password ends them all', async () => {
    const ops = await login('ops', 'ops-password');
    assert.equal((await withCookie(ops.cookie!, 'POST', '/v1/dashboard/logout')).status, 403);
    const out = await withCookie(ops.cookie!, 'POST', '/v1/dashboard/logout', { csrf: ops.body.csrfToken });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^postlane_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0/);
    assert.equal((await withCookie(ops.cookie!, 'GET', '/v1/messages')).status, 401);
    const again = await login('ops', 'ops-password');
    await store.setDashboardPassword('ops', await hashPassword('ops-password'), Date.now());
    assert.equal((await withCookie(again.cookie!, 'GET', '/v1/messages')).status, 401);
  });

  await t.test('failures lock out per address, also in parallel: 429 with Retry-After, even for the right password', async () => {
    const tries = await Promise.all(Array.from({ length: 12 }, () => login('root', 'wrong-password', '203.0.113.7')));
    assert.deepEqual(tries.map((r) => r.status).sort(), [401, 401, ...Array(10).fill(429)], 'as many answers as sequential tries');
    assert.equal(tries.find((r) => r.status === 429)!.retryAfter, '900');
    const right = await login('root', 'root-password', '203.0.113.7');
    assert.equal(right.status, 429);
    assert.equal(right.cookie, null);
    assert.equal((await login('root', 'root-password', '203.0.113.8')).status, 200, 'another address is not locked');
  });

  await t.test('failures lock out per user name across addresses; an address that logged in as the user stays admitted', async () => {
    assert.equal((await login('victim', 'victim-password', '198.51.100.50')).status, 200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login('victim', 'guess', `198.51.100.${60 + i}`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429], 'six failures (2 × maxFailures) from six addresses lock the name');
    assert.equal((await login('victim', 'victim-password', '198.51.100.99')).status, 429, 'locked for a new address');
    assert.equal((await login('victim', 'victim-password', '198.51.100.50')).status, 200, 'its usual address still logs in');
  });
}
