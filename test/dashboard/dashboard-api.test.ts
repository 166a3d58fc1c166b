// The API routes the dashboard's pages need (issue 12), over real HTTP against an in-process API
// with a real store (SQLite in a temp dir, then PostgreSQL in a fresh database), called the way
// the dashboard calls them (session cookie + CSRF token) and with keys: a message's timeline
// (acceptance, an attempt recorded by the store's delivery path, its events); bulk hold / release
// / retry / delete, never touching another account's message; search by time range; the plan's
// usage; suppression CSV import and export; a message's headers and text preview (HTML only as text); webhook replay (by id and by time window, the
// events back in the outbox as the dispatcher claims them).
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
import { hashPassword } from '../../src/users/password.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, requireTools } from '../helpers/require-tool.js';

test('dashboard API routes (SQLite store)', (t) => suite(t, null));

test('dashboard API routes (PostgreSQL store)', async (t) => {
  if (!(await requireTools(t, TOOLS.postgres))) return;
  await suite(t, await freshDatabase(t, 'postlane_dashapi'));
});

async function suite(t: TestContext, pgUrl: string | null) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-dashapi-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, storage: { url: pgUrl }, http: { port: 0 } });
  const logger = pino({ level: 'silent' });
  const store: QueueStore = await openStore(config, logger, 'relay');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { send: ['send'], read: ['read'] } });
  const beta = await seedTenant(store, { account: 'beta', domains: ['beta.test'], keys: { send: ['send'] } });
  await store.setAccountLimits('acme', { perDay: 100, perMonth: 1000 });
  const now = Date.now();
  await store.addDashboardUser({ username: 'ops', passwordHash: await hashPassword('ops-password'), role: 'account', account: 'acme', createdAt: now, updatedAt: now });
  await store.addDashboardUser({ username: 'root', passwordHash: await hashPassword('root-password'), role: 'admin', account: null, createdAt: now, updatedAt: now });
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  t.after(async () => { await api.close(); await store.close(); await fs.rm(dir, { recursive: true, force: true }); });

  const session = async (username: string) => {
    const r = await call(base, 'POST', '/v1/dashboard/login', { body: { username, password: `${username}-password` } });
    assert.equal(r.status, 200);
    const cookie = /^(postlane_session=[^;]+)/.exec(r.headers.get('set-cookie')!)![1]!;
    return (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) =>
      call(base, method, p, { body, headers: { cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': r.body.csrfToken }), ...headers } });
  };
  const ops = await session('ops');
  const root = await session('root');
  const send = async (token: string, domain: string, to: string) => {
    const r = await call(base, 'POST', '/v1/messages', { token, body: { from: `app@${domain}`, to: [to], subject: 'hi', text: 'hello', tags: ['welcome'] } });
    assert.equal(r.status, 202, r.text);
    return r.body.id as string;
  };
  const m1 = await send(acme.tokens.send, 'acme.test', 'ann@dest.test');
  const m2 = await send(acme.tokens.send, 'acme.test', 'bob@dest.test');
  // `until` excludes and `since` includes the instant itself: m2 must be received strictly before
  // `cut` and m3 strictly after it, whatever millisecond each request happened to fall in.
  await new Promise((r) => setTimeout(r, 5));
  const cut = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5)); // the next message is received strictly after `cut`
  const m3 = (await ops('POST', '/v1/messages', { from: 'app@acme.test', to: ['cy@dest.test'], subject: 'hi', text: 'hello' })).body.id as string;
  const theirs = await send(beta.tokens.send, 'beta.test', 'dee@dest.test');

  await t.test('timeline: acceptance, the delivery attempt with MX host and TLS, and the events, oldest first', async () => {
    const jobs = await store.claimDue({ now: Date.now() + 1000, limit: 10, leaseMs: 60_000, owner: 'test-node' });
    const job = jobs.find((j) => j.messageId === m1)!;
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true, policy: 'mta-sts', level: 'verify' };
    await store.recordResults(m1, job.recipients.map((rc) => ({ rcptId: rc.id, status: 'delivered' as const, response: '250 2.0.0 ok', host: 'mx1.dest.test', tls })), [], { owner: 'test-node' });
    await store.releaseLeases('test-node');
    const r = await ops('GET', `/v1/messages/${m1}/timeline`);
    assert.equal(r.status, 200);
    assert.equal(r.body.accepted.listener, 'http');
    assert.equal(r.body.accepted.client_ip, '127.0.0.1');
    assert.match(r.body.accepted.user, /^[0-9a-f]{16}$/, 'the API key id');
    assert.deepEqual(r.body.accepted.tags, ['welcome']);
    assert.deepEqual(r.body.recipients.map((x: { email: string; status: string }) => [x.email, x.status]), [['ann@dest.test', 'delivered']]);
    assert.deepEqual(r.body.attempts.map((a: Record<string, unknown>) => [a.recipient, a.status, a.mx_host, a.response, (a.tls as { version: string }).version]),
      [['ann@dest.test', 'delivered', 'mx1.dest.test', '250 2.0.0 ok', 'TLSv1.3']]);
    const types = r.body.events.map((e: { type: string }) => e.type);
    assert.ok(types.includes('delivered'), types.join());
    assert.ok(r.body.events.every((e: { message_id: string }) => e.message_id === m1));
    assert.equal((await ops('GET', `/v1/messages/${m3}/timeline`)).body.accepted.user, 'dashboard:ops', 'sent from the dashboard: its user');
    assert.equal((await ops('GET', `/v1/messages/${theirs}/timeline`)).status, 404);
  });

  await t.test('bulk hold / release / retry / delete: per id, another account\'s message is not found and untouched', async () => {
    const hold = await ops('POST', '/v1/messages/bulk', { action: 'hold', ids: [m2, m3, theirs, 'nope'] });
    assert.equal(hold.status, 200);
    assert.deepEqual(hold.body.results, [
      { id: m2, status: 'ok', recipients: 1 }, { id: m3, status: 'ok', recipients: 1 },
      { id: theirs, status: 'not_found', recipients: 0 }, { id: 'nope', status: 'not_found', recipients: 0 },
    ]);
    assert.equal((await ops('GET', `/v1/messages/${m2}`)).body.recipients[0].status, 'held');
    assert.equal((await root('GET', `/v1/messages/${theirs}`, undefined, { 'x-postlane-account': 'beta' })).body.recipients[0].status, 'queued', 'beta\'s message untouched');
    assert.deepEqual((await ops('POST', '/v1/messages/bulk', { action: 'hold', ids: [m2] })).body.results[0].status, 'unchanged');
    assert.deepEqual((await ops('POST', '/v1/messages/bulk', { action: 'release', ids: [m2] })).body.results, [{ id: m2, status: 'ok', recipients: 1 }]);
    assert.equal((await ops('GET', `/v1/messages/${m2}`)).body.recipients[0].status, 'queued');
    assert.equal((await ops('POST', '/v1/messages/bulk', { action: 'retry', ids: [m2] })).body.results[0].status, 'ok');
    const del = await ops('POST', '/v1/messages/bulk', { action: 'delete', ids: [m3, theirs] });
    assert.deepEqual(del.body.results, [{ id: m3, status: 'ok', recipients: 1 }, { id: theirs, status: 'not_found', recipients: 0 }]);
    assert.equal((await ops('GET', `/v1/messages/${m3}`)).status, 404);
    assert.equal((await call(base, 'POST', '/v1/messages/bulk', { token: acme.tokens.read, body: { action: 'hold', ids: [m2] } })).status, 403, 'the admin scope');
    assert.equal((await ops('POST', '/v1/messages/bulk', { action: 'explode', ids: [m2] })).status, 422);
    assert.equal((await ops('POST', '/v1/messages/bulk', { action: 'hold', ids: [] })).status, 422);
    assert.equal((await ops('POST', '/v1/messages/bulk', { action: 'hold', ids: Array(501).fill(m2) })).status, 422);
  });

  await t.test('search by time range: since and until, with paging', async () => {
    const before = await ops('GET', `/v1/messages?until=${encodeURIComponent(cut)}`);
    assert.deepEqual(before.body.data.map((m: { id: string }) => m.id).sort(), [m1, m2].sort());
    const after = await ops('GET', `/v1/messages?since=${encodeURIComponent(cut)}`);
    assert.deepEqual(after.body.data.map((m: { id: string }) => m.id), [], 'm3 was deleted');
    const page1 = await ops('GET', `/v1/messages?until=${encodeURIComponent(cut)}&limit=1`);
    const page2 = await ops('GET', `/v1/messages?until=${encodeURIComponent(cut)}&limit=1&cursor=${page1.body.next_cursor}`);
    assert.deepEqual([...page1.body.data, ...page2.body.data].map((m: { id: string }) => m.id).sort(), [m1, m2].sort());
  });

  await t.test('the plan and its usage; the operator sees every account', async () => {
    const mine = await ops('GET', '/v1/account');
    assert.equal(mine.status, 200);
    assert.equal(mine.body.name, 'acme');
    assert.deepEqual(mine.body.limits, { perDay: 100, perMonth: 1000 });
    assert.deepEqual(mine.body.usage.map((u: { window: string; used: number; limit: number }) => [u.window, u.used, u.limit]), [['day', 3, 100], ['month', 3, 1000]]);
    assert.deepEqual((await ops('GET', '/v1/accounts')).body.data.map((a: { name: string }) => a.name), ['acme']);
    assert.deepEqual((await root('GET', '/v1/accounts')).body.data.map((a: { name: string }) => a.name), ['acme', 'beta', 'default']);
    assert.deepEqual((await root('GET', '/v1/accounts', undefined, { 'x-postlane-account': 'beta' })).body.data.map((a: { name: string }) => a.name), ['beta']);
  });

  await t.test('webhook replay: by event id or time window; disabled 409, another account\'s 404', async () => {
    await store.addWebhook({ id: 'wh_acme', account: 'acme', url: 'https://hooks.acme.test/in', events: [], secret: 's'.repeat(32), enabled: true, createdAt: now, disabledAt: null, disabledReason: null });
    await store.addWebhook({ id: 'wh_beta', account: 'beta', url: 'https://hooks.beta.test/in', events: [], secret: 's'.repeat(32), enabled: true, createdAt: now, disabledAt: null, disabledReason: null });
    const events = (await ops('GET', `/v1/events?message_id=${m1}`)).body.data as { id: string }[];
    assert.ok(events.length >= 2, 'accepted and delivered');
    const r = await ops('POST', '/v1/webhooks/wh_acme/replay', { event_ids: events.map((e) => e.id) });
    assert.equal(r.status, 202);
    assert.deepEqual(r.body, { queued: events.length });
    const batches = await store.claimWebhookBatches({ now: Date.now() + 1000, limit: 10, batchSize: 100, leaseMs: 60_000, owner: 'test' });
    assert.deepEqual(batches.map((b) => b.webhook.id), ['wh_acme'], 'nothing for beta\'s webhook');
    assert.deepEqual(batches[0]!.events.map((e) => e.id), events.map((e) => e.id));
    await store.recordWebhookAttempt({ webhookId: 'wh_acme', at: Date.now(), eventIds: events.map((e) => e.id), ok: true, status: 200, error: null, durationMs: 1 }, null);
    const all = (await ops('GET', '/v1/events?limit=1000')).body.data.length as number;
    const window = await ops('POST', '/v1/webhooks/wh_acme/replay', { since: new Date(now - 60_000).toISOString() });
    assert.deepEqual(window.body, { queued: all }, 'every event of the account since then');
    assert.equal((await ops('POST', '/v1/webhooks/wh_beta/replay', { event_ids: [events[0]!.id] })).status, 404);
    assert.equal((await ops('POST', '/v1/webhooks/wh_acme/replay', {})).status, 422);
    assert.equal((await ops('POST', '/v1/webhooks/wh_acme/replay', { event_ids: ['ev_1'], since: new Date().toISOString() })).status, 422);
    assert.equal((await ops('POST', '/v1/webhooks/wh_acme/replay', { event_ids: ['1; DROP TABLE event'] })).status, 422);
    await store.setWebhookEnabled('acme', 'wh_acme', false, 'failing', Date.now());
    const disabled = await ops('POST', '/v1/webhooks/wh_acme/replay', { event_ids: [events[0]!.id] });
    assert.equal(disabled.status, 409);
    assert.equal(disabled.body.error.code, 'webhook_disabled');
  });

  await t.test('suppression CSV: import (refused lines listed), export; CSRF required; accounts apart', async () => {
    const csv = 'email,scope,reason,detail\nann@dest.test,all,manual,asked\nbad-line,all,,\n"bob@dest.test",broadcast,complaint,"said ""stop"""\n';
    assert.equal((await call(base, 'POST', '/v1/suppressions/import', { body: { csv }, headers: { cookie: 'postlane_session=' + 'A'.repeat(43) } })).status, 401);
    const imported = await ops('POST', '/v1/suppressions/import', { csv });
    assert.equal(imported.status, 200);
    assert.deepEqual(imported.body, { read: 3, added: 2, errors: [{ line: 3, message: 'not an email address: "bad-line"' }] });
    const again = await ops('POST', '/v1/suppressions/import', { csv: 'ann@dest.test\n' });
    assert.equal(again.body.added, 0, 'already suppressed');
    const exported = await ops('GET', '/v1/suppressions/export');
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = exported.text.trim().split(/\r?\n/);
    assert.equal(lines[0], 'email,scope,reason,created_at,source,message_id,detail');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(',')), ['ann@dest.test,all,manual', 'bob@dest.test,broadcast,complaint']);
    assert.match(exported.text, /"said ""stop"""/);
    const betaCsv = await call(base, 'GET', '/v1/suppressions/export', { token: beta.tokens.send });
    assert.equal(betaCsv.status, 403, 'export needs read');
    const rootBeta = await root('GET', '/v1/suppressions/export', undefined, { 'x-postlane-account': 'beta' });
    assert.equal(rootBeta.text.trim().split(/\r?\n/).length, 1, 'beta has none: the header only');
  });
  await t.test('content: headers and a text preview, HTML converted to text, 410 once the body is gone', async () => {
    const c = await ops('GET', `/v1/messages/${m2}/content`);
    assert.equal(c.status, 200);
    assert.equal(c.body.subject, 'hi');
    assert.equal(c.body.text.trim(), 'hello');
    assert.equal(c.body.truncated, false);
    const names = c.body.headers.map((h: { name: string }) => h.name);
    for (const n of ['dkim-signature', 'from', 'subject', 'message-id', 'received']) assert.ok(names.includes(n), n);
    const html = await call(base, 'POST', '/v1/messages', { token: acme.tokens.send, body: {
      from: 'app@acme.test', to: ['h@dest.test'], subject: '=?héllo <b>', html: '<p>Hi <b>there</b><script>alert(1)</script></p><img src="https://t.example/x.gif">',
    } });
    const hc = await ops('GET', `/v1/messages/${html.body.id}/content`);
    assert.equal(hc.status, 200);
    assert.equal(hc.body.subject, '=?héllo <b>');
    assert.match(hc.body.text, /Hi THERE|Hi there/i);
    assert.ok(!/<script|<p>|<img/i.test(hc.body.text), 'no markup in the preview');
    assert.equal((await ops('GET', `/v1/messages/${m1}/content`)).status, 410, 'delivered: the body is not kept');
    assert.equal((await ops('GET', `/v1/messages/${theirs}/content`)).status, 404);
  });
}
