// Serving the built dashboard (dashboard contract), over real HTTP against a fixture directory:
// index.html for / and client-side routes that accept HTML, /assets/* with an immutable cache,
// a strict CSP with X-Frame-Options and Referrer-Policy on each; /v1 and non-HTML misses stay
// JSON 404s; traversal attempts never leave dist; without a build a JSON 404 says so; with
// http.dashboard off nothing is served. The OpenAPI document still lists exactly the routes served.
// Over HTTPS the session cookie is Secure and named with the __Host- prefix.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import https from 'node:https';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../../clock.js';
import { createLogger } from '../../events/log.js';
import type { QueueStore } from '../../store/store.js';
import { createSelfSigned } from '../../tls/certificates.js';
import { hashPassword } from '../../users/password.js';
import { startHttpApi } from '../server.js';
import { DEFAULT_SESSION_POLICY, DashboardSessions } from './sessions.js';
import { DASHBOARD_CSP } from './static.js';

const store = { getDashboardUser: async () => null, getDashboardSession: async () => null, nextDueAt: async () => null } as unknown as QueueStore;
const limits = { maxFailures: 5, failureWindow: 60_000, lockout: 60_000, failureDelay: 1 };

async function serve(dir: string | null) {
  const sessions = new DashboardSessions(store, systemClock, limits);
  const api = await startHttpApi({
    host: '127.0.0.1', port: 0, bodyLimit: 1000, trustProxy: false, store, routes: [], clock: systemClock, logger: createLogger('silent'),
    dashboard: dir === null ? null : { sessions, policy: DEFAULT_SESSION_POLICY, dir },
  });
  return { api, base: `http://127.0.0.1:${api.address.port}` };
}

const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

test('the built dashboard: pages, assets, headers, misses and traversal', async (t) => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-dist-'));
  const dist = path.join(root, 'dist');
  await fs.mkdir(path.join(dist, 'assets', 'fonts'), { recursive: true });
  await fs.writeFile(path.join(dist, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
  await fs.writeFile(path.join(dist, 'assets', 'index-abc123.js'), 'console.log("app")');
  await fs.writeFile(path.join(dist, 'assets', 'index-abc123.css'), 'body{}');
  await fs.writeFile(path.join(dist, 'assets', 'fonts', 'x.woff2'), 'woff');
  await fs.writeFile(path.join(dist, 'favicon.svg'), '<svg/>');
  await fs.writeFile(path.join(root, 'secret.txt'), 'outside dist');
  const { api, base } = await serve(dist);
  t.after(async () => { await api.close(); await fs.rm(root, { recursive: true, force: true }); });

  for (const p of ['/', '/messages', '/messages/abc?x=1', '/domains/example.com']) {
    const r = await fetch(base + p, { headers: html });
    assert.equal(r.status, 200, p);
    assert.match(await r.text(), /^<!doctype html>/);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.equal(r.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  }
  assert.match(DASHBOARD_CSP, /default-src 'self'/);
  assert.ok(!DASHBOARD_CSP.includes('unsafe'), 'no inline script or style');
  const js = await fetch(`${base}/assets/index-abc123.js`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(js.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await js.text(), 'console.log("app")');
  assert.equal((await fetch(`${base}/assets/index-abc123.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
  assert.equal((await fetch(`${base}/assets/fonts/x.woff2`)).status, 200);
  assert.equal((await fetch(`${base}/favicon.svg`)).headers.get('content-type'), 'image/svg+xml');

  const missingAsset = await fetch(`${base}/assets/nope.js`, { headers: html });
  assert.equal(missingAsset.status, 404);
  assert.equal((await missingAsset.json() as { error: { code: string } }).error.code, 'not_found');
  for (const p of ['/v1/nothing', '/v1']) {
    const r = await fetch(base + p, { headers: html });
    assert.equal(r.status, 404, `${p} is the API's: never the app`);
    assert.equal((await r.json() as { error: { code: string } }).error.code, 'not_found');
  }
  assert.equal((await fetch(`${base}/messages`, { headers: { accept: 'application/json' } })).status, 404, 'only HTML clients get the app');
  assert.equal((await fetch(`${base}/`, { method: 'POST', headers: html })).status, 404);

  const curl = await promisify(execFile)('curl', ['--version']).then(() => 'curl', () => null);
  for (const p of ['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/assets/.hidden', '/..%2fsecret.txt', '/assets//etc/passwd', '/assets/fonts/../../index.html']) {
    if (!curl) break;
    // curl --path-as-is sends the dot-segments as typed (fetch would normalise them away)
    const { stdout } = await promisify(execFile)('curl', ['-sS', '--path-as-is', '-w', '\n%{http_code}', base + p]);
    assert.ok(!stdout.includes('outside dist'), p);
    assert.match(stdout, /\n404$/, p);
  }

  const doc = await (await fetch(`${base}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  assert.deepEqual(documented, api.registered.map((r) => `${r.method} ${r.url}`).sort(), 'the login routes are documented; the app adds no route');
  assert.ok(documented.includes('POST /v1/dashboard/login'));
});

test('no build: the pages answer a JSON 404 saying so; dashboard off: plain 404s and no login route', async (t) => {
  const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-nodist-'));
  const missing = await serve(path.join(empty, 'dist'));
  const off = await serve(null);
  t.after(async () => { await missing.api.close(); await off.api.close(); await fs.rm(empty, { recursive: true, force: true }); });
  const r = await fetch(`${missing.base}/`, { headers: html });
  assert.equal(r.status, 404);
  const body = await r.json() as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'dashboard_not_built');
  assert.match(body.error.message, /not built/);
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal((await (await fetch(`${off.base}/`, { headers: html })).json() as { error: { code: string } }).error.code, 'not_found');
  assert.equal((await fetch(`${off.base}/v1/dashboard/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 404);
});

test('over HTTPS the session cookie is __Host-postlane_session: Secure, Path=/, no Domain', async (t) => {
  const user = { username: 'ops', passwordHash: await hashPassword('ops-password'), role: 'admin' as const, account: null, createdAt: 1, updatedAt: 1 };
  const sessionStore = {
    getDashboardUser: async (name: string) => (name === 'ops' ? user : null), createDashboardSession: async () => undefined, nextDueAt: async () => null,
  } as unknown as QueueStore;
  const sessions = new DashboardSessions(sessionStore, systemClock, limits);
  const api = await startHttpApi({
    host: '127.0.0.1', port: 0, bodyLimit: 1000, trustProxy: false, store: sessionStore, routes: [], clock: systemClock, logger: createLogger('silent'),
    tls: await createSelfSigned('relay.test'), dashboard: { sessions, policy: DEFAULT_SESSION_POLICY, dir: '/nonexistent' },
  });
  t.after(() => api.close());
  const body = JSON.stringify({ username: 'ops', password: 'ops-password' });
  const answer = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: api.address.port, path: '/v1/dashboard/login', method: 'POST', rejectUnauthorized: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, cookie: String(res.headers['set-cookie'] ?? '') }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(answer.status, 200);
  assert.match(answer.cookie, /^__Host-postlane_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200; Secure$/);
});
