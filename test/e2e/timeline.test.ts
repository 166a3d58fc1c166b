// A message's timeline end to end (issue 12), on SQLite and on PostgreSQL: a relay process, a test
// DNS server and a receiving MX on 127.0.0.2 behind a first MX on 127.0.0.3 that refuses
// connections. One message submitted over SMTP (AUTH, an RFC 2047 Subject), one over the HTTP API;
// GET /v1/messages/{id}/timeline then shows who accepted each (node, listener, SMTP user or API
// key), each attempt's remote IP (the MX that took it, not the refused one) and duration, and
// GET /v1/messages?subject= finds them by a case-insensitive piece of the decoded Subject.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';
import { RelayProcess, eventually } from '../helpers/relay-process.js';
import { startDnsServer } from '../helpers/dns-server.js';
import { startReceiver } from '../helpers/smtp-receiver.js';
import { Submitter, queueIdOf } from '../helpers/smtp-client.js';
import { call, seedTenant } from '../helpers/api-fixture.js';
import { freshDatabase } from '../helpers/postgres.js';
import { TOOLS, requireTools } from '../helpers/require-tool.js';

const PASSWORD = 'alice-password-1';

test('timeline over SMTP and HTTP (SQLite store)', { timeout: 60_000 }, (t) => scenario(t, null));

test('timeline over SMTP and HTTP (PostgreSQL store)', { timeout: 60_000 }, async (t) => {
  if (!(await requireTools(t, TOOLS.postgres))) return;
  await scenario(t, await freshDatabase(t, 'postlane_timeline'));
});

async function scenario(t: TestContext, pgUrl: string | null) {
  const dns = await startDnsServer();
  const mx = await startReceiver({ host: '127.0.0.2', port: 0 });
  dns.setZone({
    'dest.test': { MX: [{ exchange: 'mx1.dest.test', priority: 10 }, { exchange: 'mx2.dest.test', priority: 20 }] },
    'mx1.dest.test': { A: ['127.0.0.3'] }, // nothing listens there: a host failure, then mx2
    'mx2.dest.test': { A: ['127.0.0.2'] },
  });
  const relay = await RelayProcess.create({
    ...(pgUrl ? { storage: { url: pgUrl } } : {}),
    dns: { servers: [`127.0.0.1:${dns.port}`] }, delivery: { port: mx.port, pollInterval: '200ms' },
  });
  t.after(async () => { await relay.cleanup(); await mx.close(); await dns.close(); });

  const store = await openStore(loadConfig({ file: relay.configFile, env: {} }), pino({ level: 'silent' }), 'admin');
  await store.open();
  const acme = await seedTenant(store, { account: 'acme', domains: ['acme.test'], keys: { app: ['send', 'read'] } });
  await store.close();
  const added = await relay.cli(['users', 'add', 'alice', '--password', PASSWORD, '--domain', 'acme.test', '--account', 'acme']);
  assert.equal(added.code, 0, added.stderr);
  await relay.start();
  const nodeId = relay.logs.find((l) => l.event === 'relay.started')!.nodeId as string;
  assert.ok(nodeId);
  const base = `http://127.0.0.1:${relay.port('http')}`;
  const get = (p: string) => call(base, 'GET', p, { token: acme.tokens.app });

  // Over SMTP: the Subject is RFC 2047 encoded ("Rechnung für März").
  const smtp = new Submitter({ port: relay.port('submission'), user: 'alice', pass: PASSWORD });
  const answer = await smtp.send('alice@acme.test', ['bob@dest.test'], [
    'From: alice@acme.test', 'To: bob@dest.test', 'Subject: =?UTF-8?Q?Rechnung_f=C3=BCr_M=C3=A4rz?= 2026', '', 'hello', '',
  ].join('\r\n'));
  smtp.close();
  const smtpId = queueIdOf(answer)!;
  assert.ok(smtpId, answer);
  // Over HTTP, in a later millisecond: the search below lists newest first, and two messages
  // received in the same millisecond are ordered by their ids' random part.
  await new Promise((r) => setTimeout(r, 5));
  const sent = await call(base, 'POST', '/v1/messages', {
    token: acme.tokens.app, body: { from: 'app@acme.test', to: ['carol@dest.test'], subject: 'Your receipt ✓ 42', text: 'thanks' },
  });
  assert.equal(sent.status, 202, sent.text);
  const apiId = sent.body.id as string;

  const timeline = async (id: string) => eventually(async () => {
    const r = await get(`/v1/messages/${id}/timeline`);
    assert.equal(r.status, 200, r.text);
    return r.body.recipients.every((x: { status: string }) => x.status === 'delivered') ? r.body : null;
  }, 30_000, 200);

  const s = await timeline(smtpId);
  assert.deepEqual([s.accepted.listener, s.accepted.user, s.accepted.api_key, s.accepted.node, s.accepted.subject],
    ['submission', 'alice', null, nodeId, 'Rechnung für März 2026']);
  const a = await timeline(apiId);
  assert.equal(a.accepted.listener, 'http');
  assert.match(a.accepted.api_key, /^[0-9a-f]{16}$/, 'the API key id');
  assert.equal(a.accepted.node, nodeId);
  assert.equal(a.accepted.subject, 'Your receipt ✓ 42');
  for (const body of [s, a]) {
    const done = body.attempts.at(-1);
    assert.equal(done.status, 'delivered');
    assert.equal(done.mx_host, 'mx2.dest.test');
    assert.equal(done.remote_ip, '127.0.0.2', 'the address of the session that delivered, not the refused mx1');
    assert.equal(typeof done.duration_ms, 'number');
    assert.ok(done.duration_ms >= 0 && done.duration_ms < 60_000, String(done.duration_ms));
  }
  // The relay's log line of the delivery names the same IP.
  const logged = await relay.waitForLog((l) => l.event === 'delivery.delivered' && l.id === smtpId);
  assert.equal(logged.ip, '127.0.0.2');

  // Subject search: case-insensitive substring of the decoded Subject, paged.
  const ids = async (q: string) => (await get(`/v1/messages?${q}`)).body.data.map((m: { id: string }) => m.id);
  assert.deepEqual(await ids(`subject=${encodeURIComponent('für März')}`), [smtpId]);
  assert.deepEqual(await ids(`subject=${encodeURIComponent('rechnung')}`), [smtpId]);
  assert.deepEqual(await ids('subject=RECEIPT'), [apiId]);
  assert.deepEqual(await ids('subject=zzz-none'), []);
  const page = await get('/v1/messages?subject=E&limit=1');
  assert.equal(page.body.data.length, 1);
  assert.equal(page.body.data[0].id, apiId, 'newest first');
  assert.equal(page.body.data[0].subject, 'Your receipt ✓ 42');
  const next = await get(`/v1/messages?subject=e&limit=1&cursor=${encodeURIComponent(page.body.next_cursor)}`);
  assert.deepEqual(next.body.data.map((m: { id: string }) => m.id), [smtpId]);
  // Bad input: an empty or over-long subject is a 400 (invalid query), not a crash.
  assert.equal((await get('/v1/messages?subject=')).status, 400);
  assert.equal((await get(`/v1/messages?subject=${'x'.repeat(201)}`)).status, 400);
}
