// Issue 11 end to end, over real sockets with the real relay process:
// - circuit breakers: a test MX answers 5.1.1 at RCPT for a set of addresses; the hard-bounce
//   spike of an account's campaign trips its breaker (event, /v1/breakers, `queue stats`,
//   `accounts list`); its next broadcast mail is held while its transactional mail still goes;
//   after an operator resumes it through the API every held message arrives, once; nothing lost.
// - fairness: account "bulk" queues 2,000 broadcast messages, then account "shop" 20
//   transactional ones; shop's all arrive before most of bulk's (the receiver's arrival order).
import test from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/relay-process.js';
import { Submitter } from '../helpers/smtp-client.js';
import { apiAs, createRig } from '../helpers/relay-rig.js';

const subjectOf = (body: Buffer) => /^Subject: (.*)$/m.exec(body.toString('latin1'))?.[1]?.trim() ?? '';

test('a hard-bounce spike pauses the account\'s broadcast mail, transactional mail still goes, and everything held is delivered after resume', async (t) => {
  const { mx, relay, ok, out } = await createRig(t, {
    config: { breakers: { scopes: ['account'], minVolume: 6, hardBouncePercent: 50 } },
    mx: { behaviour: { rcpt: (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 no such user' } : null) } },
  });
  await ok('accounts', 'add', 'acme');
  await ok('domains', 'add', 'acme.test', '--account', 'acme', '--key', 'rsa2048');
  await ok('users', 'add', 'alice', '--password', 'alice-password', '--domain', 'acme.test', '--account', 'acme');
  const operator = await out('keys', 'create', '--account', 'default', '--scope', 'admin');
  const tenant = await out('keys', 'create', '--account', 'acme', '--scope', 'admin');
  await relay.start();
  const api = (key: string, path: string, body?: unknown) => apiAs(relay, key)(path, { body });
  const submitter = new Submitter({ port: relay.port('submission'), user: 'alice', pass: 'alice-password' });
  t.after(() => submitter.close());
  const send = (to: string, subject: string, stream: 'broadcast' | 'transactional') =>
    submitter.send('news@acme.test', [to], `From: news@acme.test\r\nTo: ${to}\r\nSubject: ${subject}\r\nX-Postlane-Stream: ${stream}\r\n\r\nHello\r\n`);

  // The spike: 6 broadcast sends, 4 refused 5.1.1 (67 % >= 50 % at volume 6).
  for (const to of ['gone1', 'gone2', 'gone3', 'gone4', 'ok1', 'ok2']) await send(`${to}@dest.test`, `spike ${to}`, 'broadcast');
  await eventually(async () => ((await api(tenant, '/v1/events?type=bounced,delivered')).body.data.length >= 6) || null, 30_000).catch(async (e) => {
    console.log(JSON.stringify((await api(tenant, '/v1/events')).body), JSON.stringify((await api(operator, '/v1/breakers')).body)); throw e;
  });
  const breaker = await eventually(async () => (await api(operator, '/v1/breakers')).body.data[0] as Record<string, any> | undefined, 30_000);
  assert.equal(breaker.scope, 'account');
  assert.equal(breaker.scope_key, 'acme');
  assert.equal(breaker.metric, 'hard_bounce');
  assert.ok(breaker.rate >= 0.5 && breaker.volume >= 6, JSON.stringify(breaker));
  const tripped = await eventually(async () => (await api(tenant, '/v1/events?type=breaker.tripped')).body.data as Record<string, any>[]);
  assert.equal(tripped.length, 1, 'one breaker.tripped event, in the account\'s event log (and its webhooks)');
  assert.equal(tripped[0]!.data.scopeKey, 'acme');
  assert.equal((await api(tenant, '/v1/breakers')).body.data.length, 1, 'the tenant sees its own breaker');

  // While open: the campaign is held, transactional mail is delivered.
  const campaign = Array.from({ length: 20 }, (_, i) => `campaign ${i}`);
  for (const [i, s] of campaign.entries()) await send(`reader${i}@dest.test`, s, 'broadcast');
  for (let i = 0; i < 3; i++) await send(`buyer${i}@dest.test`, `receipt ${i}`, 'transactional');
  await eventually(() => ['receipt 0', 'receipt 1', 'receipt 2'].every((s) => mx.messages.some((m) => subjectOf(m.body) === s)) || null, 30_000);
  const stats = await eventually(async () => {
    const s = JSON.parse((await relay.cli(['queue', 'stats', '--json'])).stdout) as { held: number; breakers: { held: number }[] };
    return s.held === 20 ? s : null;
  }, 30_000).catch(async (e) => { console.log((await relay.cli(['queue', 'stats'])).stdout, (await relay.cli(['queue', 'list'])).stdout); throw e; });
  assert.equal(stats.breakers[0]!.held, 20, 'queue stats says why they are held');
  assert.ok(!mx.messages.some((m) => subjectOf(m.body).startsWith('campaign')), 'no campaign message left while paused');
  assert.match((await relay.cli(['queue', 'stats'])).stdout, /paused: account acme hard bounce .* \(breaker \d+, 20 held\)/);
  assert.match((await relay.cli(['accounts', 'list'])).stdout, /^acme\t.*paused: account acme hard bounce/m);

  // Only the operator resumes; who and why are kept.
  assert.equal((await api(tenant, `/v1/breakers/${breaker.id}/resume`, { reason: 'mine' })).status, 403);
  assert.equal((await api(operator, `/v1/breakers/999/resume`, { reason: 'x' })).status, 404);
  const resumed = await api(operator, `/v1/breakers/${breaker.id}/resume`, { reason: 'list cleaned', by: 'ops-oncall' });
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  assert.equal(resumed.body.held, 20);
  assert.match(resumed.body.resumed_by, /^ops-oncall \(key /);
  assert.equal(resumed.body.resume_reason, 'list cleaned');
  await eventually(() => campaign.every((s) => mx.messages.some((m) => subjectOf(m.body) === s)) || null, 60_000);
  for (const s of campaign) assert.equal(mx.messages.filter((m) => subjectOf(m.body) === s).length, 1, `${s} delivered once`);
  const ev = await eventually(async () => (await api(tenant, '/v1/events?type=breaker.resumed')).body.data[0] as Record<string, any> | undefined);
  assert.equal(ev.data.reason, 'list cleaned');
  assert.equal(ev.data.released, 20);
  assert.equal((await api(operator, '/v1/breakers')).body.data.length, 0, 'nothing open');
  const all = (await api(operator, '/v1/breakers?state=all')).body.data as Record<string, any>[];
  assert.equal(all[0]!.resume_reason, 'list cleaned');
  const again = await relay.cli(['breakers', 'resume', String(breaker.id), '--by', 'bob', '--reason', 'twice']);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /no open breaker/);
  assert.equal((await relay.cli(['breakers', 'resume', 'abc', '--by', 'bob', '--reason', 'x'])).code, 2, 'a usage error');
  const list = await relay.cli(['breakers', 'list', '--all']);
  assert.match(list.stdout, /resumed .* by ops-oncall \(key .*\): list cleaned/);
});

test('fairness: 20 transactional messages of one account arrive before most of another account\'s 2,000 queued broadcast messages', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  t.after(() => release()); // before the rig's cleanup (hooks run in order): the MX must let held deliveries go to close
  const { mx, relay, addTenant } = await createRig(t, { config: { limits: { maxRecipients: 100 } }, mx: { tls: false, behaviour: { holdData: () => gate } } });
  for (const [account, user, domain] of [['bulk', 'bulkuser', 'bulk.test'], ['shop', 'shopuser', 'shop.test']] as const) {
    await addTenant({ account, domain, users: [{ name: user, password: `${user}-password` }] });
  }
  await relay.start();
  const bulk = new Submitter({ port: relay.port('submission'), user: 'bulkuser', pass: 'bulkuser-password' });
  const shop = new Submitter({ port: relay.port('submission'), user: 'shopuser', pass: 'shopuser-password' });
  t.after(() => { bulk.close(); shop.close(); });
  // 20 submissions of 100 recipients: broadcast mail is split into one message per recipient.
  for (let i = 0; i < 20; i++) {
    const to = Array.from({ length: 100 }, (_, j) => `reader${i * 100 + j}@dest.test`);
    await bulk.send('news@bulk.test', to, `From: news@bulk.test\r\nTo: undisclosed-recipients:;\r\nSubject: campaign\r\nX-Postlane-Stream: broadcast\r\n\r\nHello\r\n`);
  }
  for (let i = 0; i < 20; i++) {
    await shop.send('orders@shop.test', [`buyer${i}@dest.test`], `From: orders@shop.test\r\nTo: buyer${i}@dest.test\r\nSubject: receipt ${i}\r\n\r\nThanks\r\n`);
  }
  release(); // the MX has held every delivery so far: the backlog of 2,020 is queued now
  const got = await mx.waitFor(2020, 300_000);
  const order = got.map((m) => (m.mailFrom.endsWith('@shop.test') || subjectOf(m.body).startsWith('receipt') ? 'shop' : 'bulk'));
  const lastShop = order.lastIndexOf('shop');
  t.diagnostic(`shop's 20 arrived as messages ${order.flatMap((o, i) => (o === 'shop' ? [i + 1] : [])).join(', ')} of 2,020`);
  assert.equal(order.filter((o) => o === 'shop').length, 20);
  assert.ok(lastShop < 400, `the last of shop's 20 arrived as message ${lastShop + 1} of 2,020: before most of bulk's 2,000`);
  assert.equal(new Set(got.flatMap((m) => m.rcptTo)).size, 2020, 'every recipient once');
});
