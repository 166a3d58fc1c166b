// The event and webhook half of the PlatformStore contract, run by platformStoreContract: events
// written with put/recordResults in the same transaction, their data, tenant isolation of reads,
// cursor paging, message search, and the webhook outbox (fan-out, leased batches in order,
// attempts, give-up). Times given to the store are fixed literals.
import assert from 'node:assert/strict';
import { newQueueId } from '../../src/message/ids.js';
import type { EventType, MessageEvent, MessageMeta, Webhook } from '../../src/store/platform-store.js';
import type { NewMessage, QueueStore, RecipientOutcome } from '../../src/store/store.js';
import type { PlatformIt } from './platform-store.contract.js';

const T0 = 1_700_000_000_000;
const LEASE = 60_000;

async function send(store: QueueStore, recipients: string[], over: Partial<NewMessage> = {}): Promise<string> {
  const id = over.id ?? newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  await store.put({
    id, mailFrom: 'Sender@Example.org', recipients, size: w.bytesWritten, receivedAt: T0,
    origin: { listener: 'http', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', ...over,
  });
  return id;
}

const meta = (account: string, over: Partial<MessageMeta> = {}): MessageMeta =>
  ({ account, tags: ['welcome'], metadata: { user: '42' }, stream: 'transactional', ...over });

const hook = (id: string, account: string, events: EventType[] = [], over: Partial<Webhook> = {}): Webhook => ({
  id, account, url: `http://127.0.0.1:9/${id}`, events, secret: `secret-${id}`, enabled: true, createdAt: T0, disabledAt: null,
  disabledReason: null, ...over,
});

const claimAll = (store: QueueStore, owner = 'node-a', now = T0) => store.claimDue({ now, limit: 100, leaseMs: LEASE, owner });
const types = (events: MessageEvent[]) => events.map((e) => `${e.type}:${e.recipient}`);
const claimHooks = (store: QueueStore, now: number, batchSize = 10, owner = 'd1') =>
  store.claimWebhookBatches({ now, limit: 10, batchSize, leaseMs: LEASE, owner });

async function accounts(store: QueueStore, ...names: string[]): Promise<void> {
  for (const name of names) await store.addAccount({ name, createdAt: T0, limits: {} });
}

export function platformEventsContract(it: PlatformIt): void {
  it('events: put writes one accepted event per recipient with tags, metadata and stream; DSNs and inbound mail write none', async (store) => {
    await accounts(store, 'acme');
    const id = await send(store, ['a@x.example', 'b@y.example'], { meta: meta('acme', { stream: 'broadcast' }) });
    await send(store, ['postmaster@x.example'], { isBounce: true, mailFrom: '' });
    await send(store, ['me@local.example'], { route: 'local' });
    const events = await store.listEvents({ account: 'acme' });
    assert.deepEqual(types(events), ['accepted:a@x.example', 'accepted:b@y.example']);
    for (const e of events) {
      assert.equal(e.messageId, id);
      assert.equal(e.account, 'acme');
      assert.equal(e.id, `ev_${e.seq}`);
      assert.ok(e.at > 0);
      assert.deepEqual(e.data, { tags: ['welcome'], metadata: { user: '42' }, stream: 'broadcast' });
    }
    assert.ok(events[1]!.seq > events[0]!.seq);
    assert.deepEqual(await store.listEvents({ account: 'default' }), [], 'no events for the DSN or the inbound message');
    const plain = await send(store, ['c@z.example']);
    assert.deepEqual((await store.listEvents({ account: 'default' })).map((e) => [e.type, e.messageId, e.data]),
      [['accepted', plain, { tags: [], metadata: {}, stream: 'transactional' }]]);
    assert.deepEqual(await store.getMessageMeta(id), meta('acme', { stream: 'broadcast' }));
    assert.deepEqual((await store.getMessage(id))?.meta, meta('acme', { stream: 'broadcast' }));
    assert.deepEqual(await store.getMessageMeta(plain), { account: 'default', tags: [], metadata: {}, stream: 'transactional' });
    assert.equal(await store.getMessageMeta('nope'), null);
    // Delivery jobs carry their message's account (the metrics label), with no extra read.
    const accountsByMessage = new Map((await claimAll(store)).map((j) => [j.messageId, j.account]));
    assert.equal(accountsByMessage.get(id), 'acme');
    assert.equal(accountsByMessage.get(plain), 'default');
  });

  it('events: notBefore makes the recipients first due at that time', async (store) => {
    await send(store, ['a@x.example'], { notBefore: T0 + 3_600_000 });
    assert.deepEqual(await claimAll(store, 'node-a', T0 + 1000), []);
    assert.equal(await store.nextDueAt(), T0 + 3_600_000);
    assert.equal((await claimAll(store, 'node-a', T0 + 3_600_000)).length, 1);
  });

  it('events: recordResults writes delivered, deferred, bounced (hard/soft) and failed events with their details', async (store) => {
    await accounts(store, 'acme');
    const id = await send(store, ['ok@x.example', 'later@x.example', 'gone@x.example', 'full@x.example', 'old@x.example'], { meta: meta('acme') });
    const [job] = await claimAll(store);
    const [ok, later, gone, full, old] = job!.recipients.map((r) => r.id);
    const tls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true, policy: 'mta-sts', level: 'verify' };
    const outcomes: RecipientOutcome[] = [
      { rcptId: ok!, status: 'delivered', response: '250 2.0.0 queued as X', host: 'mx.x.example', tls },
      { rcptId: later!, status: 'deferred', response: '451 4.7.1 greylisted', host: 'mx.x.example', nextAttemptAt: T0 + 300_000 },
      { rcptId: gone!, status: 'bounced', response: '550 5.1.1 no such user', host: 'mx.x.example' },
      { rcptId: full!, status: 'bounced', response: '552 5.2.2 mailbox full', host: 'mx.x.example' },
      { rcptId: old!, status: 'expired', response: '421 4.4.2 timeout' },
    ];
    await store.recordResults(id, outcomes, [], { owner: 'node-a' });
    const base = { tags: ['welcome'], metadata: { user: '42' }, stream: 'transactional' };
    const events = (await store.listEvents({ account: 'acme', after: 0 })).filter((e) => e.type !== 'accepted');
    assert.deepEqual(events.map((e) => [e.type, e.recipient, e.messageId, e.data]), [
      ['delivered', 'ok@x.example', id, { ...base, response: '250 2.0.0 queued as X', host: 'mx.x.example', tls, attempt: 1 }],
      ['deferred', 'later@x.example', id, { ...base, response: '451 4.7.1 greylisted', host: 'mx.x.example', nextAttemptAt: T0 + 300_000, attempt: 1 }],
      ['bounced', 'gone@x.example', id,
        { ...base, bounceType: 'hard', bounceCategory: 'unknown-user', code: 550, enhanced: '5.1.1', response: '550 5.1.1 no such user', host: 'mx.x.example', attempt: 1 }],
      ['bounced', 'full@x.example', id,
        { ...base, bounceType: 'soft', bounceCategory: 'mailbox-full', code: 552, enhanced: '5.2.2', response: '552 5.2.2 mailbox full', host: 'mx.x.example', attempt: 1 }],
      ['failed', 'old@x.example', id, { ...base, reason: 'expired', lastFailure: 'soft', bounceCategory: 'temporary', response: '421 4.4.2 timeout', host: null, attempt: 1 }],
    ]);
    // the deferred one is retried: attempt 2
    const [retry] = await claimAll(store, 'node-a', T0 + 300_000);
    await store.recordResults(id, [{ rcptId: retry!.recipients[0]!.id, status: 'delivered', response: '250 ok', host: 'mx2.x.example' }]);
    const last = (await store.listEvents({ account: 'acme', types: ['delivered'] })).at(-1)!;
    assert.deepEqual([last.recipient, last.data.attempt, last.data.host], ['later@x.example', 2, 'mx2.x.example']);
  });

  it('events: a result the lease rule rejects writes no event (same transaction as the state change)', async (store) => {
    const id = await send(store, ['a@x.example']);
    const [job] = await claimAll(store, 'node-a');
    const rcpt = job!.recipients[0]!.id;
    // the lease expired and node-b took the job over: node-a's late result is not recorded
    const [taken] = await store.claimDue({ now: T0 + LEASE + 1, limit: 10, leaseMs: LEASE, owner: 'node-b' });
    assert.equal(taken?.messageId, id);
    await store.recordResults(id, [{ rcptId: rcpt, status: 'bounced', response: '550 5.1.1 no' }], [], { owner: 'node-a' });
    assert.deepEqual(types(await store.listEvents({ account: 'default' })), ['accepted:a@x.example']);
    await store.recordResults(id, [{ rcptId: rcpt, status: 'delivered', response: '250 ok' }], [], { owner: 'node-b' });
    assert.deepEqual(types(await store.listEvents({ account: 'default' })), ['accepted:a@x.example', 'delivered:a@x.example']);
    await store.recordResults(id, [{ rcptId: rcpt, status: 'delivered', response: '250 ok' }]);
    assert.equal((await store.listEvents({ account: 'default' })).length, 2, 'a recipient already final writes no second event');
  });

  it('events: a DSN generated for a tenant\'s bounce belongs to that tenant, is transactional mail, and writes no event of its own', async (store) => {
    await accounts(store, 'acme');
    const id = await send(store, ['gone@x.example'], { meta: meta('acme', { stream: 'broadcast' }) });
    const [job] = await claimAll(store);
    const dsnId = newQueueId();
    const w = store.createBody(dsnId);
    await w.write(Buffer.from('Subject: Undelivered Mail\r\n\r\nquoted headers of the tenant\'s message\r\n'));
    await w.finish();
    const dsn: NewMessage = {
      id: dsnId, mailFrom: '', recipients: ['Sender@Example.org'], size: w.bytesWritten, receivedAt: T0,
      origin: { listener: 'local', clientIp: '127.0.0.1', user: null }, isBounce: true, route: 'relay',
    };
    await store.recordResults(id, [{ rcptId: job!.recipients[0]!.id, status: 'bounced', response: '550 5.1.1 unknown' }], [{ message: dsn }]);
    assert.equal((await store.getMessageMeta(dsnId))?.account, 'acme', 'only acme may see the DSN quoting its message');
    assert.equal((await store.getMessageMeta(dsnId))?.stream, 'transactional', 'a bounce notice is not held behind (or by a breaker of) the campaign it reports on');
    assert.deepEqual(types(await store.listEvents({ account: 'acme' })), ['accepted:gone@x.example', 'bounced:gone@x.example']);
    assert.deepEqual(await store.listEvents({ account: 'default' }), []);
  });

  it('events: listEvents is per account, filtered, and cursor-paged in seq order', async (store) => {
    await accounts(store, 'acme', 'beta');
    const a1 = await send(store, ['one@x.example', 'two@x.example'], { meta: meta('acme') });
    await send(store, ['b@x.example'], { meta: meta('beta') });
    const appended = await store.appendEvents([
      { at: T0 + 10, account: 'acme', type: 'opened', messageId: a1, recipient: 'one@x.example', data: { ua: 'x' } },
      { at: T0 + 20, account: 'acme', type: 'clicked', messageId: a1, recipient: 'TWO@x.example', data: { url: 'https://e' } },
    ]);
    assert.deepEqual(appended.map((e) => [e.type, e.id === `ev_${e.seq}`, e.data]), [['opened', true, { ua: 'x' }], ['clicked', true, { url: 'https://e' }]]);
    const all = await store.listEvents({ account: 'acme' });
    assert.deepEqual(types(all), ['accepted:one@x.example', 'accepted:two@x.example', 'opened:one@x.example', 'clicked:TWO@x.example']);
    assert.ok(all.every((e) => e.account === 'acme'));
    assert.deepEqual(types(await store.listEvents({ account: 'beta' })), ['accepted:b@x.example']);
    assert.deepEqual(await store.listEvents({ account: 'nobody' }), []);
    // cursor: pages of 3 then the rest
    const page1 = await store.listEvents({ account: 'acme', limit: 3 });
    const page2 = await store.listEvents({ account: 'acme', limit: 3, after: page1.at(-1)!.seq });
    assert.deepEqual([...page1, ...page2].map((e) => e.id), all.map((e) => e.id));
    assert.deepEqual(await store.listEvents({ account: 'acme', after: all.at(-1)!.seq }), []);
    // filters
    assert.deepEqual(types(await store.listEvents({ account: 'acme', types: ['opened', 'clicked'] })), ['opened:one@x.example', 'clicked:TWO@x.example']);
    assert.deepEqual(types(await store.listEvents({ account: 'acme', recipient: 'two@X.example' })), ['accepted:two@x.example', 'clicked:TWO@x.example']);
    assert.equal((await store.listEvents({ account: 'acme', messageId: a1 })).length, 4);
    assert.deepEqual(await store.listEvents({ account: 'beta', messageId: a1 }), [], 'another account\'s message id finds nothing');
    assert.deepEqual(types(await store.listEvents({ account: 'acme', since: T0 + 10, until: T0 + 20 })), ['opened:one@x.example']);
    // purge: events older than `before` go
    assert.equal(await store.purgeEvents(T0 + 15), 1);
    assert.deepEqual(types(await store.listEvents({ account: 'acme', types: ['opened', 'clicked'] })), ['clicked:TWO@x.example']);
  });

  it('events: a purge removes old events over many chunks of the log and keeps the young ones', async (store) => {
    await accounts(store, 'acme');
    const old = Array.from({ length: 12_000 }, (_, i) => ({ at: T0 + i % 10, account: 'acme', type: 'opened' as const, messageId: null, recipient: `r${i}@x.example`, data: {} }));
    await store.appendEvents(old);
    await store.appendEvents(Array.from({ length: 10 }, (_, i) => ({ at: T0 + 1000 + i, account: 'acme', type: 'clicked' as const, messageId: null, recipient: `y${i}@x.example`, data: {} })));
    assert.equal(await store.purgeEvents(T0 + 500), 12_000);
    const left = await store.listEvents({ account: 'acme', limit: 1000 });
    assert.deepEqual(left.map((e) => e.recipient), Array.from({ length: 10 }, (_, i) => `y${i}@x.example`));
    assert.equal(await store.purgeEvents(T0 + 500), 0, 'nothing old left');
  });

  it('search: messages of one account, newest first, filtered by status, recipient, tag, sender and time, paged', async (store) => {
    await accounts(store, 'acme', 'beta');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await send(store, [`r${i}@x.example`], { receivedAt: T0 + i, meta: meta('acme', { tags: i % 2 ? ['odd'] : ['even'] }) }));
    }
    const other = await send(store, ['r0@x.example'], { receivedAt: T0 + 9, meta: meta('beta') });
    await send(store, ['dsn@x.example'], { receivedAt: T0 + 9, isBounce: true, mailFrom: '', meta: meta('acme') });
    const all = await store.searchMessages({ account: 'acme' });
    assert.deepEqual(all.map((m) => m.id), [...ids].reverse());
    assert.deepEqual(all[0], {
      id: ids[4], account: 'acme', mailFrom: 'Sender@Example.org', receivedAt: T0 + 4, size: all[0]!.size, tags: ['even'], stream: 'transactional', subject: null,
      recipients: [{ address: 'r4@x.example', state: 'queued' }],
    });
    assert.deepEqual((await store.searchMessages({ account: 'beta' })).map((m) => m.id), [other]);
    assert.deepEqual((await store.searchMessages({ account: 'acme', tag: 'odd' })).map((m) => m.id), [ids[3], ids[1]]);
    assert.deepEqual((await store.searchMessages({ account: 'acme', recipient: 'R2@X.example' })).map((m) => m.id), [ids[2]]);
    assert.deepEqual((await store.searchMessages({ account: 'acme', from: 'sender@example.ORG', since: T0 + 3 })).map((m) => m.id), [ids[4], ids[3]]);
    assert.deepEqual(await store.searchMessages({ account: 'acme', from: 'other@example.org' }), []);
    const [job] = await store.claimDue({ now: T0, limit: 1, leaseMs: LEASE, owner: 'n' });
    await store.recordResults(job!.messageId, [{ rcptId: job!.recipients[0]!.id, status: 'delivered', response: '250 ok' }]);
    assert.deepEqual((await store.searchMessages({ account: 'acme', status: 'delivered' })).map((m) => m.id), [ids[0]]);
    assert.deepEqual((await store.searchMessages({ account: 'beta', status: 'delivered' })), []);
    // A waiting state with no recipient in it is answered from the queue counters; one with some is searched.
    assert.deepEqual(await store.searchMessages({ account: 'acme', status: 'deferred' }), []);
    assert.deepEqual((await store.searchMessages({ account: 'acme', status: 'queued' })).map((m) => m.id), [ids[4], ids[3], ids[2], ids[1]]);
    assert.deepEqual((await store.searchMessages({ account: 'beta', status: 'queued' })).map((m) => m.id), [other]);
    const [later] = await store.claimDue({ now: T0 + 10, limit: 1, leaseMs: LEASE, owner: 'n' });
    await store.recordResults(later!.messageId, [{ rcptId: later!.recipients[0]!.id, status: 'deferred', response: '451 later', nextAttemptAt: T0 + 300_000 }]);
    const [deferredIn, notIn] = ids.includes(later!.messageId) ? ['acme', 'beta'] : ['beta', 'acme']; // whichever the claim took
    assert.deepEqual((await store.searchMessages({ account: deferredIn, status: 'deferred' })).map((m) => m.id), [later!.messageId]);
    assert.deepEqual(await store.searchMessages({ account: notIn, status: 'deferred' }), []);
    // Delivering recipients are not counted (issue 14): the search looks at the ones in flight.
    assert.deepEqual(await store.searchMessages({ account: 'acme', status: 'delivering' }), []);
    const [inFlight] = await store.claimDue({ now: T0 + 20, limit: 1, leaseMs: LEASE, owner: 'n' });
    const [deliveringIn, noneIn] = ids.includes(inFlight!.messageId) ? ['acme', 'beta'] : ['beta', 'acme'];
    assert.deepEqual((await store.searchMessages({ account: deliveringIn, status: 'delivering' })).map((m) => m.id), [inFlight!.messageId]);
    assert.deepEqual(await store.searchMessages({ account: noneIn, status: 'delivering' }), []);
    // Driven by the recipients in flight: several of them, newest first, paged, with the other filters.
    const more = await store.claimDue({ now: T0 + 30, limit: 10, leaseMs: LEASE, owner: 'n' });
    const flying = new Set([inFlight!.messageId, ...more.map((j) => j.messageId)]);
    const acmeFlying = [...ids].reverse().filter((id) => flying.has(id));
    assert.ok(acmeFlying.length >= 2, 'several of acme\'s messages in flight');
    assert.deepEqual((await store.searchMessages({ account: 'acme', status: 'delivering' })).map((m) => m.id), acmeFlying);
    const first = await store.searchMessages({ account: 'acme', status: 'delivering', limit: 1 });
    assert.deepEqual(first.map((m) => m.id), acmeFlying.slice(0, 1));
    assert.deepEqual((await store.searchMessages({ account: 'acme', status: 'delivering', limit: 1, before: { receivedAt: first[0]!.receivedAt, id: first[0]!.id } }))
      .map((m) => m.id), acmeFlying.slice(1, 2));
    assert.deepEqual((await store.searchMessages({ account: 'acme', status: 'delivering', tag: 'odd' })).map((m) => m.id),
      acmeFlying.filter((id) => ids.indexOf(id) % 2 === 1));
    await store.releaseLeases('n'); // due again, as the rest of this test expects
    const page1 = await store.searchMessages({ account: 'acme', limit: 2 });
    const page2 = await store.searchMessages({ account: 'acme', limit: 2, before: { receivedAt: page1[1]!.receivedAt, id: page1[1]!.id } });
    const page3 = await store.searchMessages({ account: 'acme', limit: 2, before: { receivedAt: page2[1]!.receivedAt, id: page2[1]!.id } });
    assert.deepEqual([...page1, ...page2, ...page3].map((m) => m.id), all.map((m) => m.id));
  });

  it('webhooks: add, list, get, enable/disable and remove within the account only', async (store) => {
    await accounts(store, 'acme', 'beta');
    await store.addWebhook(hook('w1', 'acme', ['delivered', 'bounced']));
    await store.addWebhook(hook('w2', 'acme', [], { createdAt: T0 + 1 }));
    await store.addWebhook(hook('w3', 'beta'));
    await assert.rejects(store.addWebhook(hook('w4', 'nope')));
    assert.deepEqual(await store.getWebhook('acme', 'w1'), hook('w1', 'acme', ['delivered', 'bounced']));
    assert.equal(await store.getWebhook('beta', 'w1'), null);
    assert.deepEqual((await store.listWebhooks('acme')).map((w) => w.id), ['w1', 'w2']);
    assert.equal(await store.setWebhookEnabled('beta', 'w1', false, 'x', T0), false);
    assert.equal(await store.setWebhookEnabled('acme', 'w1', false, 'failing for 24 h', T0 + 5), true);
    assert.deepEqual(await store.getWebhook('acme', 'w1'), { ...hook('w1', 'acme', ['delivered', 'bounced']), enabled: false, disabledAt: T0 + 5, disabledReason: 'failing for 24 h' });
    assert.equal(await store.setWebhookEnabled('acme', 'w1', true, null, T0 + 6), true);
    assert.deepEqual(await store.getWebhook('acme', 'w1'), hook('w1', 'acme', ['delivered', 'bounced']));
    assert.equal(await store.removeWebhook('beta', 'w2'), false);
    assert.equal(await store.removeWebhook('acme', 'w2'), true);
    assert.deepEqual((await store.listWebhooks('acme')).map((w) => w.id), ['w1']);
    assert.deepEqual((await store.listWebhookAttempts('beta', 'w1', 10)), []);
  });

  it('webhooks: events fan out to the enabled webhooks of their account that want the type, in the same transaction', async (store) => {
    await accounts(store, 'acme', 'beta');
    await store.addWebhook(hook('all', 'acme'));
    await store.addWebhook(hook('bounces', 'acme', ['bounced']));
    await store.addWebhook(hook('off', 'acme', [], { enabled: false, disabledAt: T0, disabledReason: 'manual' }));
    await store.addWebhook(hook('other', 'beta'));
    const id = await send(store, ['a@x.example', 'b@x.example'], { meta: meta('acme') });
    const [job] = await claimAll(store);
    await store.recordResults(id, [
      { rcptId: job!.recipients[0]!.id, status: 'delivered', response: '250 ok' },
      { rcptId: job!.recipients[1]!.id, status: 'bounced', response: '550 5.1.1 unknown' },
    ]);
    const batches = await claimHooks(store, Date.now() + 1000);
    const got = Object.fromEntries(batches.map((b) => [b.webhook.id, types(b.events)]));
    assert.deepEqual(got, {
      all: ['accepted:a@x.example', 'accepted:b@x.example', 'delivered:a@x.example', 'bounced:b@x.example'],
      bounces: ['bounced:b@x.example'],
    });
    const all = batches.find((b) => b.webhook.id === 'all')!;
    assert.equal(all.webhook.secret, 'secret-all');
    assert.equal(all.attempts, 0);
    assert.equal(all.firstDueAt, all.events[0]!.at);
    assert.deepEqual(all.events.map((e) => e.seq), [...all.events.map((e) => e.seq)].sort((a, b) => a - b), 'seq order');
  });

  it('webhooks: one leased batch per webhook, in order; ok removes it, a failure waits for retryAt, give-up drops it', async (store) => {
    await store.addWebhook(hook('w', 'default'));
    const events = await store.appendEvents(Array.from({ length: 5 }, (_, i) => (
      { at: T0 + i, account: 'default', type: 'opened' as const, messageId: null, recipient: `r${i}@x.example`, data: { i } })));
    const ids = events.map((e) => e.id);
    const [b1] = await claimHooks(store, T0 + 100, 2);
    assert.deepEqual(b1!.events.map((e) => e.id), ids.slice(0, 2));
    assert.equal(b1!.leaseUntil, T0 + 100 + LEASE);
    assert.deepEqual(await claimHooks(store, T0 + 101, 2, 'd2'), [], 'a webhook with a batch in flight is skipped');
    await store.recordWebhookAttempt({ webhookId: 'w', at: T0 + 200, eventIds: b1!.events.map((e) => e.id), ok: true, status: 200, error: null, durationMs: 12 }, null);
    const [b2] = await claimHooks(store, T0 + 201, 2);
    assert.deepEqual(b2!.events.map((e) => e.id), ids.slice(2, 4));
    await store.recordWebhookAttempt({ webhookId: 'w', at: T0 + 300, eventIds: b2!.events.map((e) => e.id), ok: false, status: 503, error: 'HTTP 503', durationMs: 5 }, T0 + 10_000);
    assert.deepEqual(await claimHooks(store, T0 + 9_999, 2), [], 'the failed head waits for its retry time; later events wait behind it');
    const [b3] = await claimHooks(store, T0 + 10_000, 10);
    assert.deepEqual(b3!.events.map((e) => e.id), ids.slice(2), 'retried events first, then the next ones, in order');
    assert.equal(b3!.attempts, 1);
    await store.recordWebhookAttempt({ webhookId: 'w', at: T0 + 10_001, eventIds: b3!.events.map((e) => e.id), ok: false, status: null, error: 'ECONNREFUSED', durationMs: 1 }, null);
    assert.deepEqual(await claimHooks(store, T0 + 999_999, 10), [], 'given up: dropped from the outbox');
    const log = await store.listWebhookAttempts('default', 'w', 10);
    assert.deepEqual(log.map((a) => [a.ok, a.status, a.error, a.eventIds.length]), [[false, null, 'ECONNREFUSED', 3], [false, 503, 'HTTP 503', 2], [true, 200, null, 2]]);
    assert.equal(log[2]!.durationMs, 12);
    assert.deepEqual(await store.listWebhookAttempts('other', 'w', 10), [], 'another account sees no attempts');
  });

  it('webhooks: an expired lease is claimed again; a disabled webhook is not claimed', async (store) => {
    await store.addWebhook(hook('w', 'default'));
    await store.appendEvents([{ at: T0, account: 'default', type: 'opened', messageId: null, recipient: null, data: {} }]);
    assert.equal((await claimHooks(store, T0)).length, 1);
    assert.equal((await claimHooks(store, T0 + LEASE - 1, 10, 'd2')).length, 0);
    const [again] = await claimHooks(store, T0 + LEASE, 10, 'd2');
    assert.equal(again?.events.length, 1, 'the dispatcher died: its lease expired');
    await store.recordWebhookAttempt({ webhookId: 'w', at: T0, eventIds: again!.events.map((e) => e.id), ok: false, status: 500, error: null, durationMs: 1 }, T0 + LEASE);
    await store.setWebhookEnabled('default', 'w', false, 'failing', T0);
    assert.deepEqual(await claimHooks(store, T0 + 2 * LEASE), []);
    await store.setWebhookEnabled('default', 'w', true, null, T0);
    assert.equal((await claimHooks(store, T0 + 2 * LEASE)).length, 1, 're-enabled: its pending events resume');
  });

  it('webhooks: addWebhook with maxPerAccount stops at the cap, also for adds in parallel (attack30)', async (store) => {
    await accounts(store, 'evil', 'acme');
    const added = await Promise.all(Array.from({ length: 12 }, (_, i) => store.addWebhook(hook(`p${i}`, 'evil'), 5)));
    assert.equal(added.filter(Boolean).length, 5, 'five of twelve parallel adds');
    assert.equal((await store.listWebhooks('evil')).length, 5);
    assert.equal(await store.addWebhook(hook('p99', 'evil'), 5), false);
    assert.equal(await store.addWebhook(hook('a0', 'acme'), 5), true, 'another account has its own count');
    assert.equal(await store.addWebhook(hook('p100', 'evil')), true, 'no cap asked (the CLI): added');
  });

  it('webhooks: perAccount caps one account\'s batches in flight, so other accounts\' due webhooks are claimed (attack30)', async (store) => {
    await accounts(store, 'evil', 'acme');
    for (let i = 0; i < 6; i++) await store.addWebhook(hook(`e${i}`, 'evil'));
    await store.addWebhook(hook('a0', 'acme'));
    // evil's events are older: without the cap its six webhooks come first and fill the claim.
    await store.appendEvents([{ at: T0, account: 'evil', type: 'opened', messageId: null, recipient: null, data: {} }]);
    await store.appendEvents([{ at: T0 + 5, account: 'acme', type: 'opened', messageId: null, recipient: null, data: {} }]);
    const claim = (inFlight: Record<string, number>, limit = 4) =>
      store.claimWebhookBatches({ now: T0 + 10, limit, batchSize: 10, leaseMs: LEASE, owner: 'd1', perAccount: { max: 2, inFlight } });
    const first = (await claim({})).map((b) => b.webhook.id).sort();
    assert.deepEqual(first, ['a0', 'e0', 'e1'], 'two of evil\'s, then acme\'s');
    assert.deepEqual(await claim({ evil: 2 }), [], 'evil is full, acme\'s webhook is leased');
    const next = await claim({ evil: 1 });
    assert.deepEqual(next.map((b) => b.webhook.id), ['e2'], 'one slot freed: one more of evil\'s');
    const uncapped = await store.claimWebhookBatches({ now: T0 + 10, limit: 10, batchSize: 10, leaseMs: LEASE, owner: 'd2' });
    assert.deepEqual(uncapped.map((b) => b.webhook.id).sort(), ['e3', 'e4', 'e5'], 'without perAccount: no cap');
  });

  it('webhooks: concurrent claimers (two nodes) never get batches of the same webhook at once', async (store, fx) => {
    const peer = await fx.openPeer();
    const hooks = Array.from({ length: 6 }, (_, i) => `w${i}`);
    for (const id of hooks) await store.addWebhook(hook(id, 'default'));
    await store.appendEvents(Array.from({ length: 4 }, (_, i) => ({ at: T0 + i, account: 'default', type: 'opened' as const, messageId: null, recipient: null, data: {} })));
    const claimers = Array.from({ length: 8 }, (_, i) => (i % 2 ? peer : store).claimWebhookBatches({ now: T0 + 10, limit: 2, batchSize: 10, leaseMs: LEASE, owner: `c${i}` }));
    const batches = (await Promise.all(claimers)).flat();
    const claimed = batches.map((b) => b.webhook.id);
    assert.equal(new Set(claimed).size, claimed.length, `a webhook leased twice: ${claimed.join(',')}`);
    assert.deepEqual([...claimed].sort(), hooks, 'every webhook was leased once');
    assert.ok(batches.every((b) => b.events.length === 4));
  });

  it('webhooks: claimers on two nodes deliver every event of every webhook exactly once, in seq order', async (store, fx) => {
    const peer = await fx.openPeer();
    const hooks = ['w0', 'w1', 'w2'];
    for (const id of hooks) await store.addWebhook(hook(id, 'default'));
    const appended = await store.appendEvents(Array.from({ length: 30 }, (_, i) => (
      { at: T0 + i, account: 'default', type: 'opened' as const, messageId: null, recipient: null, data: { i } })));
    const delivered = new Map<string, number[]>(hooks.map((h) => [h, []]));
    const inFlight = new Set<string>();
    const claimer = async (s: QueueStore, owner: string) => {
      for (let idle = 0; idle < 3;) {
        const batches = await s.claimWebhookBatches({ now: T0 + 100, limit: 2, batchSize: 4, leaseMs: LEASE, owner });
        if (batches.length === 0) { idle++; await new Promise((r) => setTimeout(r, 5)); continue; }
        idle = 0;
        for (const b of batches) {
          assert.ok(!inFlight.has(b.webhook.id), `${b.webhook.id} claimed while its batch was in flight`);
          inFlight.add(b.webhook.id);
          delivered.get(b.webhook.id)!.push(...b.events.map((e) => e.seq));
        }
        await new Promise((r) => setImmediate(r));
        for (const b of batches) {
          inFlight.delete(b.webhook.id);
          await s.recordWebhookAttempt({ webhookId: b.webhook.id, at: T0 + 100, eventIds: b.events.map((e) => e.id), ok: true, status: 204, error: null, durationMs: 1 }, null);
        }
      }
    };
    await Promise.all([claimer(store, 'a1'), claimer(store, 'a2'), claimer(peer, 'b1'), claimer(peer, 'b2')]);
    for (const h of hooks) assert.deepEqual(delivered.get(h), appended.map((e) => e.seq), `${h}: every event once, in order`);
  });
}
