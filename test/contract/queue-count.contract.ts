// The queue overview's counters (issue 12: queue_count, kept by triggers on recipient), run
// against every QueueStore: after each transition that moves a recipient in or out of a waiting
// state (put, putMany, suppressed at acceptance, claimDue, recordResults with each outcome and a
// generated DSN, unclaimJobs, postponeJobs, releaseLeases, a lease taken over after it expired,
// hold, release, retry, deleteMessage, purgeFinished, compactStats), the counters equal a GROUP BY
// of the queued, deferred and held recipients joined to their message (account, receive time), read
// by the test with its own connection (delivering ones are not counted since issue 14: the overview
// reads the ones in flight); and queueOverview answers the counts and oldest receive times of all
// four waiting states, and queueDepth (/metrics' light read) the four states' totals, as counts().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newQueueId } from '../../src/message/ids.js';
import type { NewMessage, QueueStore } from '../../src/store/store.js';

/** One waiting group: a GROUP BY row of the recipient table, or a counter row (oldest: null). */
export interface CountGroup { account: string; domain: string; state: string; n: number; oldest: number | null }

export interface QueueCountFixture {
  store: QueueStore;
  /** SELECT m.account, r.domain, r.state, count(*), min(m.received_at) … waiting … GROUP BY 1, 2, 3 */
  truth(): Promise<CountGroup[]>;
  /** The counters as stored (PostgreSQL: with the unfolded deltas added), groups at zero left out. */
  counted(): Promise<CountGroup[]>;
  cleanup(): Promise<void>;
}

export const WAITING_TRUTH = `SELECT m.account, r.domain, r.state, COUNT(*) AS n, MIN(m.received_at) AS oldest
  FROM recipient r JOIN queued_message m ON m.id = r.message_id
  WHERE r.state IN ('queued', 'deferred', 'delivering', 'held') GROUP BY m.account, r.domain, r.state`;

const byKey = (a: CountGroup, b: CountGroup) => `${a.account}/${a.domain}/${a.state}`.localeCompare(`${b.account}/${b.domain}/${b.state}`);
const norm = (rows: CountGroup[], withOldest: boolean) =>
  rows.map((r) => ({ account: r.account, domain: r.domain, state: r.state, n: Number(r.n), oldest: withOldest ? Number(r.oldest) : null })).sort(byKey);

async function check(fx: QueueCountFixture, step: string): Promise<void> {
  const truth = norm(await fx.truth(), true);
  assert.deepEqual(norm(await fx.counted(), false), truth.filter((g) => g.state !== 'delivering').map((g) => ({ ...g, oldest: null })),
    `${step}: counters = GROUP BY of the queued, deferred and held`);
  // The queue depth (/metrics, store/queue-depth-store.ts): the light read's four states equal the
  // GROUP BY's and the full count's (counts(), which counts every recipient on PostgreSQL).
  const byState = { queued: 0, deferred: 0, delivering: 0, held: 0 };
  for (const g of truth) byState[g.state as keyof typeof byState] += g.n;
  const [depth, full] = await Promise.all([fx.store.queueDepth(), fx.store.counts()]);
  assert.deepEqual(depth, byState, `${step}: queueDepth = GROUP BY of the waiting and delivering`);
  assert.deepEqual(depth, { queued: full.queued, deferred: full.deferred, delivering: full.delivering, held: full.held }, `${step}: queueDepth = counts()`);
  const accounts = [...new Set(truth.map((g) => g.account)), null];
  for (const account of accounts) {
    const mine = truth.filter((g) => account === null || g.account === account);
    const states = new Map<string, { state: string; recipients: number; oldestReceivedAt: number }>();
    const domains = new Map<string, { domain: string; recipients: number; deferred: number; held: number; oldestReceivedAt: number }>();
    for (const g of mine) {
      const s = states.get(g.state) ?? { state: g.state, recipients: 0, oldestReceivedAt: g.oldest! };
      states.set(g.state, { ...s, recipients: s.recipients + g.n, oldestReceivedAt: Math.min(s.oldestReceivedAt, g.oldest!) });
      const d = domains.get(g.domain) ?? { domain: g.domain, recipients: 0, deferred: 0, held: 0, oldestReceivedAt: g.oldest! };
      domains.set(g.domain, {
        domain: g.domain, recipients: d.recipients + g.n, deferred: d.deferred + (g.state === 'deferred' ? g.n : 0),
        held: d.held + (g.state === 'held' ? g.n : 0), oldestReceivedAt: Math.min(d.oldestReceivedAt, g.oldest!),
      });
    }
    const o = await fx.store.queueOverview(account, 1000);
    assert.deepEqual(o.byState, [...states.values()].sort((a, b) => a.state.localeCompare(b.state)), `${step}: byState of ${account ?? '*'}`);
    assert.deepEqual([...o.byDomain].sort((a, b) => a.domain.localeCompare(b.domain)),
      [...domains.values()].sort((a, b) => a.domain.localeCompare(b.domain)), `${step}: byDomain of ${account ?? '*'}`);
  }
}

export function queueCountContract(name: string, makeFixture: () => Promise<QueueCountFixture>): void {
  test(`${name}: queue counters equal a GROUP BY of the recipients after every transition`, async () => {
    const fx = await makeFixture();
    const { store } = fx;
    try {
      const t = Date.now() - 3_600_000;
      let n = 0;
      const message = async (account: string, recipients: string[], extra: Partial<NewMessage> = {}): Promise<NewMessage> => {
        const id = newQueueId();
        const w = store.createBody(id);
        await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
        await w.finish();
        return {
          id, mailFrom: `app@${account}.example`, recipients, size: w.bytesWritten, receivedAt: t + 1000 * n++, isBounce: false, route: 'relay',
          origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, meta: { account, stream: 'transactional', tags: [], metadata: {} }, ...extra,
        };
      };
      for (const a of ['acme', 'beta']) await store.addAccount({ name: a, createdAt: t, limits: {} });
      await check(fx, 'empty');

      const m1 = await message('acme', ['a@gmail.test', 'b@gmail.test', 'c@yahoo.test']);
      await store.put(m1);
      const m2 = await message('beta', ['d@gmail.test', 'e@outlook.test']);
      const m3 = await message('acme', ['f@yahoo.test']);
      await store.putMany([m2, m3]);
      await check(fx, 'put, putMany');

      const cause = { reason: 'manual' as const, scope: 'all' as const, createdAt: t, source: 'cli' };
      await store.put(await message('acme', ['s@gmail.test', 'k@gmail.test'], { suppressed: [{ address: 's@gmail.test', suppression: cause }] }));
      await check(fx, 'put with a recipient suppressed at acceptance');

      await store.addSuppressions([{ account: 'beta', address: 'e@outlook.test', scope: 'all', reason: 'manual', source: 'cli', messageId: null, detail: null, createdAt: t }]);
      const now = Date.now();
      const jobs = await store.claimDue({ now, limit: 100, leaseMs: 60_000, owner: 'n1' });
      assert.ok(jobs.length >= 4, 'claimed');
      await check(fx, 'claimDue (a recipient on the suppression list marked)');

      const job = (id: string, domain: string) => jobs.find((j) => j.messageId === id && j.domain === domain)!;
      const [a, b] = job(m1.id, 'gmail.test').recipients;
      const dsn = await message('', ['app@acme.example'], { mailFrom: '', isBounce: true, meta: { account: 'acme', stream: 'transactional', tags: [], metadata: {} } });
      await store.recordResults(m1.id, [
        { rcptId: a!.id, status: 'delivered', response: '250 ok' },
        { rcptId: b!.id, status: 'bounced', response: '550 no' },
      ], [{ message: dsn }], { owner: 'n1' });
      const [c] = job(m1.id, 'yahoo.test').recipients;
      await store.recordResults(m1.id, [{ rcptId: c!.id, status: 'deferred', response: '451 later', nextAttemptAt: now + 600_000 }], [], { owner: 'n1' });
      await check(fx, 'recordResults: delivered, bounced with a DSN put, deferred');

      const [f] = job(m3.id, 'yahoo.test').recipients;
      await store.recordResults(m3.id, [{ rcptId: f!.id, status: 'expired', response: '451 gave up' }], [], { owner: 'n1' });
      const gmail2 = jobs.find((j) => j.messageId === m2.id && j.domain === 'gmail.test')!;
      await store.recordResults(m2.id, [{ rcptId: gmail2.recipients[0]!.id, status: 'suppressed', response: '550 5.7.1 not sent', suppression: cause }], [], { owner: 'n1' });
      await check(fx, 'recordResults: expired, suppressed');

      const rest = jobs.filter((j) => j.messageId !== m1.id && j.messageId !== m3.id && !(j.messageId === m2.id && j.domain === 'gmail.test'));
      if (rest.length > 0) await store.unclaimJobs('n1', [rest[0]!].map((j) => ({ messageId: j.messageId, domain: j.domain })));
      if (rest.length > 1) await store.postponeJobs('n1', [rest[1]!].map((j) => ({ messageId: j.messageId, domain: j.domain })), now + 60_000, now);
      await check(fx, 'unclaimJobs, postponeJobs');
      assert.ok(await store.releaseLeases('n1') >= 0);
      await check(fx, 'releaseLeases');

      const m4 = await message('beta', ['g@gmail.test', 'h@gmail.test']);
      await store.put(m4);
      await store.claimDue({ now: Date.now(), limit: 100, leaseMs: 1, owner: 'n2' });
      const takeover = await store.claimDue({ now: Date.now() + 1000, limit: 100, leaseMs: 60_000, owner: 'n3' });
      assert.ok(takeover.some((j) => j.messageId === m4.id), 'an expired lease is taken over');
      await check(fx, 'claimDue of another node\'s expired lease');
      await store.releaseLeases(null);

      assert.equal(await store.hold(m1.id), 1, 'the deferred yahoo recipient');
      assert.equal(await store.hold(m4.id), 2);
      await check(fx, 'hold');
      assert.equal(await store.release(m4.id, Date.now()), 2);
      await check(fx, 'release');
      assert.ok(await store.retry(null, Date.now()) >= 2);
      await check(fx, 'retry');
      assert.equal(await store.deleteMessage(m2.id), true);
      assert.equal(await store.deleteMessage(m1.id), true);
      await check(fx, 'deleteMessage (the recipients go by the cascade)');
      await store.compactStats();
      await check(fx, 'compactStats');
      await store.purgeFinished(Date.now() + 1);
      await check(fx, 'purgeFinished');

      const left = await store.claimDue({ now: Date.now() + 10_000_000, limit: 100, leaseMs: 60_000, owner: 'n4' });
      for (const j of left) {
        await store.recordResults(j.messageId, j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'n4' });
      }
      await store.compactStats();
      await check(fx, 'everything delivered');
      assert.deepEqual(await store.queueOverview(null, 10), { byState: [], byDomain: [] });
      assert.deepEqual(await fx.counted(), [], 'groups at zero are dropped by the compaction');
    } finally { await fx.cleanup(); }
  });
}
