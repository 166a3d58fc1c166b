// What the queue counters' migration tests (SQLite v18 → v19, PostgreSQL v15 → v16) share: the mail
// each seeds in the old schema (queued, deferred, held, delivering, and finished mail that must not
// count) and the checks after the migration: it is counted per account, domain and state with its
// oldest receive time, and the counters go on counting what happens after it. Each test writes the
// seed in its own dialect and may add checks of its own (PostgreSQL: the same after compactStats).
import assert from 'node:assert/strict';
import type { QueueStore } from '../../src/store/store.js';

export type SeedMessage = [id: string, account: string, receivedAt: number, recipients: [address: string, state: string][]];

export const SEED_ACCOUNTS = ['acme', 'beta'];
export const SEED_MESSAGES: SeedMessage[] = [
  ['m1', 'acme', 100, [['a@gmail.test', 'queued'], ['b@gmail.test', 'deferred'], ['c@yahoo.test', 'delivered']]],
  ['m2', 'acme', 200, [['d@gmail.test', 'held'], ['e@yahoo.test', 'delivering']]],
  ['m3', 'beta', 50, [['f@gmail.test', 'queued'], ['g@gmail.test', 'bounced']]],
];

const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };

/** What acme's queue holds once its old mail is delivered and m4 arrived (checkMigratedCounts). */
export const AFTER_NEW_MAIL = {
  byState: [{ state: 'held', recipients: 1, oldestReceivedAt: 200 }, { state: 'queued', recipients: 1, oldestReceivedAt: 300 }],
  byDomain: [
    { domain: 'gmail.test', recipients: 1, deferred: 0, held: 1, oldestReceivedAt: 200 },
    { domain: 'yahoo.test', recipients: 1, deferred: 0, held: 0, oldestReceivedAt: 300 },
  ],
};

/**
 * On a store just migrated over SEED_MESSAGES: the counts of the old mail; then the old node's lease
 * given back, the queued mail delivered and a new message put, and AFTER_NEW_MAIL counted.
 */
export async function checkMigratedCounts(store: QueueStore): Promise<void> {
  assert.deepEqual(await store.queueOverview('acme', 10), {
    byState: [
      { state: 'deferred', recipients: 1, oldestReceivedAt: 100 }, { state: 'delivering', recipients: 1, oldestReceivedAt: 200 },
      { state: 'held', recipients: 1, oldestReceivedAt: 200 }, { state: 'queued', recipients: 1, oldestReceivedAt: 100 },
    ],
    byDomain: [
      { domain: 'gmail.test', recipients: 3, deferred: 1, held: 1, oldestReceivedAt: 100 },
      { domain: 'yahoo.test', recipients: 1, deferred: 0, held: 0, oldestReceivedAt: 200 },
    ],
  });
  assert.deepEqual((await store.queueOverview(null, 1)).byDomain, [{ domain: 'gmail.test', recipients: 4, deferred: 1, held: 1, oldestReceivedAt: 50 }]);
  assert.equal(await store.releaseLeases(null), 1);
  const jobs = await store.claimDue({ now: Date.now() + 1000, limit: 10, leaseMs: 60_000, owner: 'n' });
  for (const j of jobs) await store.recordResults(j.messageId, j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'n' });
  const w = store.createBody('m4');
  await w.write(Buffer.from('hi\r\n'));
  await w.finish();
  await store.put({ id: 'm4', mailFrom: 'a@sender.example', recipients: ['h@yahoo.test'], size: w.bytesWritten, receivedAt: 300, origin,
    isBounce: false, route: 'relay', meta: { account: 'acme', stream: 'transactional', tags: [], metadata: {} } });
  assert.deepEqual(await store.queueOverview('acme', 10), AFTER_NEW_MAIL);
  assert.deepEqual(await store.queueOverview('beta', 10), { byState: [], byDomain: [] });
}
