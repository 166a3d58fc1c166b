// Bad input to the HTTP API, against an in-process server on a real socket with a SQLite store in
// a temp dir: malformed JSON, huge bodies, wrong content types, wrong types, unknown fields and
// CR/LF header injection are clear 4xx with field errors and queue nothing (store.counts()
// unchanged); authentication and scopes; Idempotency-Key replay / 409 / 422; a batch with mixed
// messages; a scheduled send; quota 429; a failing store is 503 with Retry-After. Run against
// both stores (PostgreSQL in a fresh database).
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../src/clock.js';
import { configSchema } from '../../src/config/schema.js';
import { MessageSigner } from '../../src/domains/message-signer.js';
import { startApi } from '../../src/http/index.js';
import { requestHash } from '../../src/http/idempotency.js';
import { openStore } from '../../src/store/open-store.js';
import type { QueueCounts, QueueStore } from '../../src/store/store.js';
import { call, seedTenant, type Tenant } from '../helpers/api-fixture.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, requireTools } from '../helpers/require-tool.js';
import { fixedSecrets } from '../../src/events/secret-ring.js';

const total = (c: QueueCounts) => Object.values(c).reduce((a, b) => a + b, 0);

test('HTTP API input handling (SQLite store)', (t) => inputSuite(t, null));

test('HTTP API input handling (PostgreSQL store)', async (t) => {
  if (!(await requireTools(t, TOOLS.postgres))) return;
  await inputSuite(t, await freshDatabase(t, 'postlane_api'));
});

async function inputSuite(t: TestContext, pgUrl: string | null) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-api-'));
  const config = configSchema.parse({ hostname: 'relay.test', dataDir: dir, http: { port: 0, bodyLimit: '64KB' }, storage: { url: pgUrl } });
  const logger = pino({ level: 'silent' });
  const store: QueueStore = await openStore(config, logger, 'relay');
  await store.open();
  const acme: Tenant = await seedTenant(store, {
    account: 'acme', domains: ['acme.test'], keys: { send: ['send'], read: ['read'], admin: ['admin'] },
  });
  const queued: string[] = [];
  const signer = new MessageSigner({ store, hostname: config.hostname, domains: config.domains, clock: systemClock, logger });
  const api = (await startApi({ config, store, clock: systemClock, logger, tls: { cert: '', key: '' }, signer, onQueued: (id) => queued.push(id), bounceSecrets: fixedSecrets() }))!;
  const base = `http://127.0.0.1:${api.address.port}`;
  let closed = false;
  t.after(async () => { await api.close(); if (!closed) await store.close(); await fs.rm(dir, { recursive: true, force: true }); });

  const good = { from: 'App <app@acme.test>', to: ['bob@dest.test'], subject: 'hi', text: 'hello' };
  const send = (body: unknown, headers?: Record<string, string>, token = acme.tokens.send) => call(base, 'POST', '/v1/messages', { token, body, headers });
  const nothingQueued = async (before: number) => assert.equal(total(await store.counts()), before, 'nothing queued');

  await t.test('authentication and scopes', async () => {
    const anon = await send(good, undefined, '');
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Bearer realm="postlane"/);
    assert.equal(anon.body.error.code, 'unauthorized');
    const bad = await send(good, undefined, 'pl_0123456789abcdef_' + 'A'.repeat(43));
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal((await send(good, undefined, 'garbage')).status, 401);
    const readOnly = await send(good, undefined, acme.tokens.read);
    assert.equal(readOnly.status, 403);
    assert.equal(readOnly.body.error.code, 'insufficient_scope');
    assert.equal((await call(base, 'GET', '/v1/keys', { token: acme.tokens.send })).status, 403);
    assert.equal((await call(base, 'GET', '/v1/events', { token: acme.tokens.send })).status, 403);
    assert.equal((await call(base, 'POST', '/v1/webhooks', { token: acme.tokens.read, body: { url: 'http://127.0.0.1:9/x' } })).status, 403);
    // SSRF: a tenant cannot aim webhooks at loopback, private or metadata addresses (webhooks.allowPrivateDestinations is off).
    for (const url of ['http://127.0.0.1:9/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://localhost:8080/x', 'http://10.0.0.7/x',
      'http://[::127.0.0.1]/x', 'http://[::ffff:7f00:1]/x', 'http://[64:ff9b::a9fe:a9fe]/x', 'http://[2002:a00:7::1]/x', 'http://[::]/x']) {
      const refused = await call(base, 'POST', '/v1/webhooks', { token: acme.tokens.admin, body: { url } });
      assert.equal(refused.status, 422, url);
      assert.equal(refused.body.error.fields[0].path, 'url');
    }
    assert.deepEqual((await call(base, 'GET', '/v1/webhooks', { token: acme.tokens.admin })).body.data, []);
    assert.equal((await call(base, 'GET', '/v1/keys', { token: acme.tokens.admin })).status, 200, 'admin covers everything');
    assert.equal((await call(base, 'GET', '/v1/events', { token: acme.tokens.admin })).status, 200);
    // A revoked key stops working at once.
    const created = await call(base, 'POST', '/v1/keys', { token: acme.tokens.admin, body: { name: 'tmp', scopes: ['read'] } });
    assert.equal(created.status, 201);
    assert.match(created.body.token, /^pl_[0-9a-f]{16}_/);
    assert.equal((await call(base, 'GET', '/v1/domains', { token: created.body.token })).status, 200);
    assert.equal((await call(base, 'DELETE', `/v1/keys/${created.body.id}`, { token: acme.tokens.admin })).status, 204);
    assert.equal((await call(base, 'GET', '/v1/domains', { token: created.body.token })).status, 401);
    const listed = await call(base, 'GET', '/v1/keys', { token: acme.tokens.admin });
    assert.ok(!JSON.stringify(listed.body).includes('secret'), 'no hashes or tokens listed');
  });

  await t.test('malformed JSON, wrong content type, huge body', async () => {
    const before = total(await store.counts());
    const malformed = await send('{"from": "app@acme.test", "to": [');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, 'invalid_json');
    const form = await send('from=app@acme.test', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal(form.body.error.code, 'unsupported_media_type');
    const huge = await send({ ...good, text: 'x'.repeat(100 * 1024) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'payload_too_large');
    const notObject = await send('[1,2]');
    assert.equal(notObject.status, 422);
    await nothingQueued(before);
  });

  await t.test('wrong types and unknown fields: 422 with a field list', async () => {
    const before = total(await store.counts());
    const wrong = await send({ ...good, subject: 42, to: 'bob@dest.test', tags: Array(11).fill('t') });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error.code, 'validation_failed');
    const paths = wrong.body.error.fields.map((f: { path: string }) => f.path);
    for (const p of ['subject', 'to', 'tags']) assert.ok(paths.includes(p), `${p} in ${paths}`);
    const unknown = await send({ ...good, bodyy: 'typo', attachments: [{ filename: 'a', content: 'AA==', path: '/etc/passwd' }] });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.error.fields.map((f: { path: string; message: string }) => `${f.path}: ${f.message}`).sort(),
      ['attachments.0.path: unknown field', 'bodyy: unknown field']);
    const badAddr = await send({ ...good, to: ['bob@'], cc: [{ name: 'C', email: 'c@@x' }] });
    assert.equal(badAddr.status, 422);
    assert.deepEqual(badAddr.body.error.fields.map((f: { path: string }) => f.path), ['to.0', 'cc.0.email']);
    const spoof = await send({ ...good, from: 'ceo@other.test' });
    assert.equal(spoof.status, 422);
    assert.deepEqual(spoof.body.error.fields.map((f: { path: string }) => f.path), ['from']);
    // Every originator field is authorised like From (Resent-From / Resent-Sender can be set through headers).
    const resent = await send({ ...good, headers: { 'Resent-From': 'x@other.com', 'resent-sender': 'Ops <ops@acme.test>' } });
    assert.equal(resent.status, 422);
    assert.deepEqual(resent.body.error.fields, [{ path: 'headers.Resent-From', message: 'the Resent-From domain is not a sending domain of this account' }]);
    assert.equal(spoof.body.error.fields[0].message, 'other.test is not a sending domain of account acme; add it with: postlane domains add other.test --account acme');
    assert.equal(spoof.body.error.message, `The sender is not authorised: ${spoof.body.error.fields[0].message}`);
    // NUL in metadata: PostgreSQL's jsonb cannot hold it (a batch of puts rolled back for it), so it is refused at intake on both stores
    const nul = await send({ ...good, metadata: { order: 'a\u0000b' } });
    assert.equal(nul.status, 422);
    assert.deepEqual(nul.body.error.fields.map((f: { path: string }) => f.path), ['metadata.order']);
    const nulKey = await send({ ...good, metadata: { ['k\u0000']: 'v' } });
    assert.equal(nulKey.status, 422);
    assert.ok(nulKey.body.error.fields.every((f: { path: string }) => f.path.startsWith('metadata')), JSON.stringify(nulKey.body.error.fields));
    const plain = await send(JSON.stringify(good), { 'content-type': 'text/plain' });
    assert.equal(plain.status, 415, 'text/plain is not JSON (docs/api.md)');
    await nothingQueued(before);
  });

  await t.test('CR/LF header injection in every header-bound field', async () => {
    const before = total(await store.counts());
    const cases: [Record<string, unknown>, string][] = [
      [{ subject: 'hi\r\nBcc: victim@evil.test' }, 'subject'],
      [{ subject: 'hi\nX-Injected: 1' }, 'subject'],
      [{ from: 'app@acme.test\r\nBcc: victim@evil.test' }, 'from'],
      [{ from: { name: 'App\r\nBcc: victim@evil.test', email: 'app@acme.test' } }, 'from'],
      [{ to: ['bob@dest.test\r\nBcc: victim@evil.test'] }, 'to.0'],
      [{ to: [{ name: 'Bob\nX: y', email: 'bob@dest.test' }] }, 'to.0'],
      [{ cc: ['c@dest.test\rBcc: v@evil.test'] }, 'cc.0'],
      [{ reply_to: 'r@acme.test\nBcc: v@evil.test' }, 'reply_to'],
      [{ headers: { 'X-Custom': 'v\r\nBcc: victim@evil.test' } }, 'headers.X-Custom'],
      [{ headers: { 'X-Custom\r\nBcc': 'v' } }, 'headers'],
      [{ attachments: [{ filename: 'a\r\nX: y.txt', content: 'AA==' }] }, 'attachments.0.filename'],
      [{ tags: ['a\nb'] }, 'tags.0'],
    ];
    for (const [patch, field] of cases) {
      const r = await send({ ...good, ...patch });
      assert.equal(r.status, 422, JSON.stringify(patch));
      const paths: string[] = r.body.error.fields.map((f: { path: string }) => f.path);
      assert.ok(paths.some((p) => p === field || p.startsWith(`${field}.`)), `${JSON.stringify(patch)} → ${paths}`);
    }
    const structural = await send({ ...good, headers: { Bcc: 'v@evil.test', 'Content-Type': 'text/html' } });
    assert.equal(structural.status, 422);
    assert.deepEqual(structural.body.error.fields.map((f: { path: string }) => f.path), ['headers.Bcc', 'headers.Content-Type']);
    // Postlane's own SMTP control fields never travel through the API (its fields say the same).
    const control = await send({ ...good, headers: { 'X-Postlane-Stream': 'broadcast' } });
    assert.deepEqual(control.body.error.fields.map((f: { path: string }) => f.path), ['headers.X-Postlane-Stream']);
    await nothingQueued(before);
  });

  await t.test('a valid message is queued: 202 with recipient ids, visible with GET', async () => {
    const before = total(await store.counts());
    const r = await send({ ...good, cc: ['carol@dest.test'], tags: ['t1'], metadata: { order: '7' } });
    assert.equal(r.status, 202, r.text);
    assert.match(r.body.id, /^[0-9A-Z]{20}$/);
    assert.deepEqual(r.body.recipients, [{ email: 'bob@dest.test', id: `${r.body.id}.0`, message_id: r.body.id, status: 'queued' }, { email: 'carol@dest.test', id: `${r.body.id}.1`, message_id: r.body.id, status: 'queued' }]);
    assert.ok(queued.includes(r.body.id), 'the scheduler was woken');
    assert.equal(total(await store.counts()), before + 2);
    const got = await call(base, 'GET', `/v1/messages/${r.body.id}`, { token: acme.tokens.read });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.recipients.map((x: { id: string; email: string; status: string }) => [x.id, x.email, x.status]),
      [[`${r.body.id}.0`, 'bob@dest.test', 'queued'], [`${r.body.id}.1`, 'carol@dest.test', 'queued']]);
    assert.deepEqual(got.body.tags, ['t1']);
    assert.deepEqual(got.body.metadata, { order: '7' });
    const view = await store.getMessage(r.body.id);
    assert.equal(view!.origin.listener, 'http');
    assert.equal(view!.meta.account, 'acme');
    assert.equal((await call(base, 'GET', '/v1/messages/00000000000000000000', { token: acme.tokens.read })).status, 404);
    const search = await call(base, 'GET', '/v1/messages?tag=t1&limit=5', { token: acme.tokens.read });
    assert.equal(search.status, 200);
    assert.ok(search.body.data.some((m: { id: string }) => m.id === r.body.id));
    // Paging: limit=1 twice with the cursor gives two different messages, newest first.
    const newer = await send({ ...good, subject: 'newer' });
    assert.equal(newer.status, 202);
    const p1 = await call(base, 'GET', '/v1/messages?limit=1', { token: acme.tokens.read });
    assert.deepEqual(p1.body.data.map((m: { id: string }) => m.id), [newer.body.id], 'newest first');
    assert.ok(p1.body.next_cursor);
    const p2 = await call(base, 'GET', `/v1/messages?limit=1&cursor=${p1.body.next_cursor}`, { token: acme.tokens.read });
    assert.equal(p2.status, 200);
    assert.deepEqual(p2.body.data.map((m: { id: string }) => m.id), [r.body.id]);
    assert.equal((await call(base, 'GET', '/v1/messages?limit=0', { token: acme.tokens.read })).status, 400);
    assert.equal((await call(base, 'GET', '/v1/messages?cursor=zzz', { token: acme.tokens.read })).status, 400);
  });

  await t.test('40 sends at once (PostgreSQL: puts made while four are in flight go together): each 202 and stored once, a suppressed recipient among them reported and marked', async () => {
    await store.addSuppressions([{ account: 'acme', address: 'gone@dest.test', scope: 'all', reason: 'hard-bounce', source: 'cli', messageId: null, detail: null, createdAt: 1 }]);
    const before = total(await store.counts());
    // Nothing is charged (no limits): where the store gains by it (PostgreSQL) the lookup rides in the
    // put, one store request a send; on SQLite it stays its own read (bench/README.md, api18, api20).
    assert.equal(store.suppressionLookupInPut, pgUrl !== null);
    const calls = { findSuppressions: 0, putCheckingSuppressions: 0, put: 0 };
    const s = store as unknown as Record<keyof typeof calls, (...a: unknown[]) => Promise<unknown>>;
    const orig = { findSuppressions: s.findSuppressions, putCheckingSuppressions: s.putCheckingSuppressions, put: s.put };
    for (const k of Object.keys(calls) as (keyof typeof calls)[]) s[k] = (...a) => { calls[k]++; return orig[k].apply(store, a); };
    const rs = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      send({ ...good, to: i === 13 ? ['gone@dest.test', 'x13@dest.test'] : [`x${i}@dest.test`], subject: `burst ${i}`, tags: ['burst'] })))
      .finally(() => { for (const k of Object.keys(calls) as (keyof typeof calls)[]) s[k] = orig[k]; });
    assert.deepEqual(calls, pgUrl !== null ? { findSuppressions: 0, putCheckingSuppressions: 40, put: 0 } : { findSuppressions: 40, putCheckingSuppressions: 0, put: 40 });
    assert.deepEqual(rs.map((r) => r.status), rs.map(() => 202), rs.find((r) => r.status !== 202)?.text);
    assert.deepEqual(rs[13]!.body.recipients.map((r: { email: string; status: string }) => [r.email, r.status]), [['gone@dest.test', 'suppressed'], ['x13@dest.test', 'queued']]);
    assert.equal(total(await store.counts()), before + 41, 'each of the 41 recipients stored once');
    for (const [i, r] of rs.entries()) {
      const view = (await store.getMessage(r.body.id))!;
      assert.deepEqual(view.recipients.map((x) => [x.address, x.state]), i === 13 ? [['gone@dest.test', 'suppressed'], ['x13@dest.test', 'queued']] : [[`x${i}@dest.test`, 'queued']]);
      assert.match((await store.readMessage(r.body.id) as Buffer).toString('latin1'), new RegExp(`\r\nSubject: burst ${i}\r\n`));
      const events = await store.listEvents({ account: 'acme', messageId: r.body.id });
      assert.deepEqual(events.map((e) => [e.type, e.recipient]).sort(), (i === 13 ? [['accepted', 'gone@dest.test'], ['accepted', 'x13@dest.test'], ['suppressed', 'gone@dest.test']] : [['accepted', `x${i}@dest.test`]]).sort());
    }
  });

  await t.test('Idempotency-Key: replay, different body 422, in progress 409', async () => {
    const before = total(await store.counts());
    const body = { ...good, subject: 'idem' };
    const first = await send(body, { 'idempotency-key': 'order-1' });
    assert.equal(first.status, 202);
    const again = await send(body, { 'idempotency-key': 'order-1' });
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    assert.equal(total(await store.counts()), before + 1, 'sent once');
    const other = await send({ ...body, subject: 'different' }, { 'idempotency-key': 'order-1' });
    assert.equal(other.status, 422);
    assert.equal(other.body.error.code, 'idempotency_key_reused');
    await store.reserveIdempotencyKey('acme', 'order-2', requestHash('POST', '/v1/messages', body), Date.now());
    const busy = await send(body, { 'idempotency-key': 'order-2' });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'idempotency_in_progress');
    assert.equal(total(await store.counts()), before + 1);
    // A refused request is replayed as refused (nothing was queued either time).
    const refused = await send({ ...body, from: 'x@other.test' }, { 'idempotency-key': 'order-3' });
    assert.equal(refused.status, 422);
    const refusedAgain = await send({ ...body, from: 'x@other.test' }, { 'idempotency-key': 'order-3' });
    assert.equal(refusedAgain.status, 422);
    assert.equal(refusedAgain.headers.get('idempotent-replayed'), 'true');
    // A token is shown once: the replay names the same key, without its token (never stored).
    const k1 = await call(base, 'POST', '/v1/keys', { token: acme.tokens.admin, body: { scopes: ['read'] }, headers: { 'idempotency-key': 'key-1' } });
    const k2 = await call(base, 'POST', '/v1/keys', { token: acme.tokens.admin, body: { scopes: ['read'] }, headers: { 'idempotency-key': 'key-1' } });
    assert.equal(k1.status, 201);
    assert.match(k1.body.token, /^pl_/);
    assert.equal(k2.status, 201);
    assert.equal(k2.headers.get('idempotent-replayed'), 'true');
    assert.equal(k2.body.id, k1.body.id);
    assert.equal(k2.body.token, null);
  });

  await t.test('batch: each message on its own', async () => {
    const before = total(await store.counts());
    const r = await call(base, 'POST', '/v1/messages/batch', {
      token: acme.tokens.send,
      body: { messages: [good, { ...good, subject: 'a\r\nb' }, { ...good, from: 'x@other.test' }, { ...good, to: ['x@dest.test', 'y@dest.test'] }, { nope: true }] },
    });
    assert.equal(r.status, 207);
    assert.deepEqual(r.body.results.map((x: { index: number; status: number }) => [x.index, x.status]), [[0, 202], [1, 422], [2, 422], [3, 202], [4, 422]]);
    assert.deepEqual(r.body.results[1].error.fields.map((f: { path: string }) => f.path), ['subject']);
    assert.equal(total(await store.counts()), before + 3);
    const tooMany = await call(base, 'POST', '/v1/messages/batch', { token: acme.tokens.send, body: { messages: Array(501).fill(good) } });
    assert.ok(tooMany.status === 413 || tooMany.status === 422, String(tooMany.status));
    const allGood = await call(base, 'POST', '/v1/messages/batch', { token: acme.tokens.send, body: { messages: [good] } });
    assert.equal(allGood.status, 202);
  });

  await t.test('raw message with an envelope', async () => {
    const r = await call(base, 'POST', '/v1/messages/raw', {
      token: acme.tokens.send,
      body: { envelope: { from: 'app@acme.test', to: ['bob@dest.test'] }, message: 'From: app@acme.test\nTo: bob@dest.test\nSubject: raw\n\nbody\n' },
    });
    assert.equal(r.status, 202, r.text);
    const spoof = await call(base, 'POST', '/v1/messages/raw', {
      token: acme.tokens.send,
      body: { envelope: { from: 'app@acme.test', to: ['bob@dest.test'] }, message: 'From: ceo@other.test\r\n\r\nbody\r\n' },
    });
    assert.equal(spoof.status, 422);
    const control = await call(base, 'POST', '/v1/messages/raw', { token: acme.tokens.send, body: { envelope: { from: 'app@acme.test', to: ['bob@dest.test'] },
      message: 'From: app@acme.test\r\nX-Postlane-Track: opens\r\n\r\nbody\r\n' } });
    assert.deepEqual([control.status, control.body.error.fields[0].path], [422, 'message'], 'SMTP control fields are refused in raw API messages');
    for (const field of ['Sender', 'Resent-From', 'Resent-Sender']) {
      const r = await call(base, 'POST', '/v1/messages/raw', { token: acme.tokens.send, body: { envelope: { from: 'app@acme.test', to: ['bob@dest.test'] },
        message: `From: app@acme.test\r\n${field}: x@other.com\r\n\r\nbody\r\n` } });
      assert.deepEqual([r.status, r.body.error.fields], [422, [{ path: 'message', message: `the ${field} domain is not a sending domain of this account` }]], field);
    }
  });

  await t.test('scheduled send: not due before send_at', async () => {
    const at = Date.now() + 3_600_000;
    const r = await send({ ...good, to: ['later@sched.test'], send_at: new Date(at).toISOString() });
    assert.equal(r.status, 202, r.text);
    const got = await call(base, 'GET', `/v1/messages/${r.body.id}`, { token: acme.tokens.read });
    assert.equal(Date.parse(got.body.recipients[0].next_attempt_at), at);
    const now = await store.claimDue({ now: Date.now(), limit: 1000, leaseMs: 60_000, owner: 'test' });
    assert.ok(!now.some((j) => j.messageId === r.body.id), 'not due yet');
    const later = await store.claimDue({ now: at + 1, limit: 1000, leaseMs: 60_000, owner: 'test' });
    assert.ok(later.some((j) => j.messageId === r.body.id), 'due at send_at');
    const far = await send({ ...good, send_at: new Date(Date.now() + 30 * 86_400_000).toISOString() });
    assert.equal(far.status, 422);
  });

  await t.test('quota: 429 with Retry-After, nothing queued', async () => {
    await seedTenant(store, { account: 'small', domains: ['small.test'], keys: { send: ['send'] } }).then(async (small) => {
      await store.setAccountLimits('small', { perDay: 2 });
      const msg = { from: 'a@small.test', to: ['x@dest.test', 'y@dest.test'], text: 'x' };
      assert.equal((await send(msg, undefined, small.tokens.send)).status, 202);
      const before = total(await store.counts());
      const over = await send(msg, undefined, small.tokens.send);
      assert.equal(over.status, 429);
      assert.equal(over.body.error.code, 'rate_limited');
      assert.ok(Number(over.headers.get('retry-after')) >= 1);
      await nothingQueued(before);
    });
  });

  await t.test('health, readiness, and a failing store is 503 with Retry-After', async () => {
    assert.equal((await call(base, 'GET', '/healthz')).status, 200);
    assert.equal((await call(base, 'GET', '/readyz')).status, 200);
    await store.close();
    closed = true;
    const r = await send(good);
    assert.equal(r.status, 503);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal((await call(base, 'GET', '/readyz')).status, 503);
  });
}
