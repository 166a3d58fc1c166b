// The circuit-breaker and claim-fairness contract (issue 11), run against every QueueStore: the
// claim hands out transactional mail before broadcast and accounts in turn; a bounce spike trips
// exactly one breaker per scope, which holds the scope's broadcast mail (never its transactional
// mail) in state 'held'; resuming releases it, keeps who and why, and nothing is lost.
// Only the QueueStore interface is used. Times: the store stamps events with its own clock, so the
// claims here use Date.now() too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newQueueId } from '../../src/message/ids.js';
import type { BreakerPolicy } from '../../src/store/breaker-rules.js';
import type { MessageMeta } from '../../src/store/platform-store.js';
import type { DeliveryJob, NewMessage, QueueStore } from '../../src/store/store.js';

export type MakeBreakerStore = (breakers: BreakerPolicy) => Promise<{ store: QueueStore; cleanup: () => Promise<void> }>;

const POLICY: BreakerPolicy = {
  enabled: true, scopes: ['account', 'domain'], windowMs: 3_600_000, minVolume: 4,
  thresholds: { complaint: 0.003, hard_bounce: 0.5, block: 0.5 }, pauseTransactional: false,
};
const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };

async function enqueue(store: QueueStore, rcpt: string, meta: MessageMeta, receivedAt: number, mailFrom = `news@${meta.account}.example`): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  const m: NewMessage = { id, mailFrom, recipients: [rcpt], size: w.bytesWritten, receivedAt, origin, isBounce: false, route: 'relay', meta };
  await store.put(m);
  return id;
}

const meta = (account: string, stream: MessageMeta['stream']): MessageMeta => ({ account, stream, tags: [], metadata: {} });
const claim = (store: QueueStore, limit: number, now = Date.now()) => store.claimDue({ now, limit, leaseMs: 60_000, owner: 'node-a' });
const finish = (store: QueueStore, jobs: DeliveryJob[], status: 'delivered' | 'bounced', response: string) =>
  Promise.all(jobs.map((j) => store.recordResults(j.messageId, j.recipients.map((r) => ({ rcptId: r.id, status, response, host: 'mx.example.net' })), [], { owner: 'node-a' })));

export function breakerContract(name: string, makeStore: MakeBreakerStore): void {
  const it = (title: string, body: (store: QueueStore) => Promise<void>, policy = POLICY) =>
    test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await makeStore(policy);
      try { await body(store); } finally { await cleanup(); }
    });

  it('claimDue hands out transactional mail before broadcast mail that was due earlier', async (store) => {
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 12; i++) await enqueue(store, `reader${i}@list.example`, meta('default', 'broadcast'), t0 + i);
    const tx = new Set<string>();
    for (let i = 0; i < 3; i++) tx.add(await enqueue(store, `buyer${i}@shop.example`, meta('default', 'transactional'), t0 + 1000 + i));
    const first = await claim(store, 5);
    assert.equal(first.length, 5);
    assert.deepEqual(first.slice(0, 3).map((j) => j.messageId).sort(), [...tx].sort(), 'the three transactional messages first');
    assert.ok(first.slice(3).every((j) => j.stream === 'broadcast'), 'then the oldest broadcast');
  });

  it('claimDue takes accounts in turn within a stream: a later account is not stuck behind an earlier backlog', async (store) => {
    for (const a of ['acme', 'beta']) await store.addAccount({ name: a, createdAt: 1, limits: {} });
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 10; i++) await enqueue(store, `r${i}@list.example`, meta('acme', 'broadcast'), t0 + i);
    for (let i = 0; i < 3; i++) await enqueue(store, `s${i}@list.example`, meta('beta', 'broadcast'), t0 + 100 + i);
    const jobs = await claim(store, 6);
    assert.deepEqual(jobs.map((j) => j.account), ['acme', 'beta', 'acme', 'beta', 'acme', 'beta']);
  });

  it('a hard-bounce spike trips one breaker per scope; it holds the account\'s broadcast mail, not its transactional mail; resume releases it', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: 1, limits: {} });
    await store.addAccount({ name: 'beta', createdAt: 1, limits: {} });
    const t0 = Date.now() - 60_000;
    // 6 broadcast sends: 4 bounce (5.1.1), 2 are delivered: 67 % > 50 % with volume 6 >= 4.
    for (let i = 0; i < 6; i++) await enqueue(store, `r${i}@list.example`, meta('acme', 'broadcast'), t0 + i);
    const sent = await claim(store, 6);
    assert.equal(sent.length, 6);
    await finish(store, sent.slice(0, 4), 'bounced', '550 5.1.1 <r@list.example>: user unknown');
    await finish(store, sent.slice(4), 'delivered', '250 2.0.0 ok');
    const open = await store.listBreakers({ open: true });
    assert.deepEqual(open.map((b) => `${b.scope.type}:${b.scope.key}`).sort(), ['account:acme', 'domain:acme.example']);
    for (const b of open) {
      assert.equal(b.metric, 'hard_bounce');
      assert.equal(b.account, 'acme');
      assert.ok(b.rate >= 0.5 && b.count >= 3 && b.volume >= 4, JSON.stringify(b));
      assert.equal(b.resumedAt, null);
    }
    // More bounces while open: no second trip.
    const more = await enqueue(store, 'x@list.example', meta('acme', 'transactional'), t0 + 50, 'ops@acme.example');
    const [job] = await claim(store, 1);
    assert.equal(job?.messageId, more);
    await finish(store, [job!], 'bounced', '550 5.1.1 unknown');
    assert.equal((await store.listBreakers({})).length, 2);
    const tripped = await store.listEvents({ account: 'acme', types: ['breaker.tripped'] });
    assert.equal(tripped.length, 2, 'one breaker.tripped event per scope');
    assert.equal(tripped[0]!.data.metric, 'hard_bounce');

    // Held: acme's broadcast; not acme's transactional, not beta's broadcast.
    const campaign = [];
    for (let i = 0; i < 3; i++) campaign.push(await enqueue(store, `c${i}@list.example`, meta('acme', 'broadcast'), t0 + 100 + i));
    const receipt = await enqueue(store, 'buyer@shop.example', meta('acme', 'transactional'), t0 + 200, 'shop@acme.example');
    const other = await enqueue(store, 'b@list.example', meta('beta', 'broadcast'), t0 + 300, 'news@beta.example');
    const round = await claim(store, 10);
    assert.deepEqual(round.map((j) => j.messageId).sort(), [receipt, other].sort());
    const held = await store.listRecipients({ state: 'held' });
    assert.deepEqual(held.map((r) => r.messageId).sort(), [...campaign].sort());
    assert.deepEqual(await claim(store, 10), [], 'held mail is not due');
    const listed = await store.listBreakers({ open: true, account: 'acme' });
    assert.equal(listed.reduce((n, b) => n + b.held, 0), 3, 'the held count is shown');

    // Resume both: the campaign is due again, who and why are kept, the events say so.
    const resumeAt = Date.now() + 5_000;
    for (const b of open) {
      const r = await store.resumeBreaker(b.id, 'alice', 'list cleaned', resumeAt);
      assert.equal(r?.resumedBy, 'alice');
      assert.equal(r?.resumeReason, 'list cleaned');
    }
    assert.equal(await store.resumeBreaker(open[0]!.id, 'bob', 'again', resumeAt), null, 'only an open breaker resumes');
    assert.deepEqual(await store.listBreakers({ open: true }), []);
    const past = await store.listBreakers({ open: false });
    assert.ok(past.every((b) => b.resumedBy === 'alice' && b.resumeReason === 'list cleaned' && b.resumedAt === resumeAt));
    const resumed = await store.listEvents({ account: 'acme', types: ['breaker.resumed'] });
    assert.equal(resumed.length, 2);
    assert.equal(resumed.reduce((n, e) => n + Number(e.data.released), 0), 3);
    const after = await claim(store, 10, resumeAt);
    assert.deepEqual(after.map((j) => j.messageId).sort(), [...campaign].sort(), 'every held message delivered after resume');
    assert.ok(after.every((j) => (j.heldMs ?? 0) > 0), 'held time is kept (not counted towards expiry)');
    // A bounce after the resume does not trip again on the counts from before it.
    await finish(store, after.slice(0, 1), 'bounced', '550 5.1.1 unknown');
    assert.deepEqual(await store.listBreakers({ open: true }), []);
  });

  it('complaints (ARF reports, appended as events) trip the complaint breaker against deliveries', async (store) => {
    await store.addAccount({ name: 'acme', createdAt: 1, limits: {} });
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 4; i++) await enqueue(store, `r${i}@list.example`, meta('acme', 'broadcast'), t0 + i);
    const sent = await claim(store, 4);
    await finish(store, sent, 'delivered', '250 2.0.0 ok');
    assert.deepEqual(await store.listBreakers({}), [], 'deliveries alone trip nothing');
    const complaint = (j: DeliveryJob) => ({ at: Date.now(), account: 'acme', type: 'complained' as const, messageId: j.messageId,
      recipient: j.recipients[0]!.address, data: { stream: 'broadcast', feedbackType: 'abuse' } });
    await store.appendEvents([complaint(sent[0]!)]);
    const [b] = await store.listBreakers({ open: true, account: 'acme' });
    assert.equal(b?.metric, 'complaint', '1 complaint of 4 deliveries >= 25 %');
    assert.equal(b?.volume, 4);
    await store.appendEvents([complaint(sent[1]!)]);
    assert.equal((await store.listEvents({ account: 'acme', types: ['breaker.tripped'] })).filter((e) => e.data.scope === 'account').length, 1);
  }, { ...POLICY, thresholds: { complaint: 0.25 } });

  it('below the minimum volume nothing trips', async (store) => {
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 3; i++) await enqueue(store, `r${i}@list.example`, meta('default', 'broadcast'), t0 + i);
    await finish(store, await claim(store, 3), 'bounced', '550 5.1.1 user unknown');
    assert.deepEqual(await store.listBreakers({}), []);
  });

  it('breakers.pauseTransactional holds the scope\'s transactional mail too', async (store) => {
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 4; i++) await enqueue(store, `r${i}@list.example`, meta('default', 'broadcast'), t0 + i);
    await finish(store, await claim(store, 4), 'bounced', '550 5.1.1 user unknown');
    assert.equal((await store.listBreakers({ open: true })).length, 2);
    await enqueue(store, 'buyer@shop.example', meta('default', 'transactional'), t0 + 10);
    assert.deepEqual(await claim(store, 5), []);
    assert.equal((await store.listRecipients({ state: 'held' })).length, 1);
  }, { ...POLICY, pauseTransactional: true });
}
