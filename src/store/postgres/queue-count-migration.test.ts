// The v15 → v16 migration of the PostgreSQL store (issue 12: the queue overview's counters): mail
// waiting before it (queued, deferred, held, delivering, and finished mail that must not count)
// is counted per account, domain and state with its oldest receive time, and the counters go on
// counting what happens after it, before and after compactStats folds their deltas. Skipped when
// the server is unreachable, a failure under CI=true.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '../../../test/helpers/postgres.js';
import { TOOLS, skipUnless } from '../../../test/helpers/require-tool.js';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresQueueStore } from './postgres-store.js';

const skip = await skipUnless(TOOLS.postgres);
const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };

async function seedV15(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of MIGRATIONS.filter((x) => x.version <= 15)) {
      await c.query(m.sql);
      await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
    for (const name of ['acme', 'beta']) await c.query('INSERT INTO account (name, created_at) VALUES ($1, 1)', [name]);
    const add = async (id: string, account: string, receivedAt: number, rcpts: [string, string][]) => {
      await c.query(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route, account)
                     VALUES ($1, 'a@sender.example', 4, $2, '{}', false, 'relay', $3)`, [id, receivedAt, account]);
      for (const [address, state] of rcpts) {
        const leased = state === 'delivering';
        await c.query(`INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, lease_owner, lease_until, updated_at)
                       VALUES ($1, $2, $3, $4, 1, $5, $6, 1)`, [id, address, address.split('@')[1], state, leased ? 'old-node' : null, leased ? 2 : null]);
      }
      await c.query(`INSERT INTO message_body (message_id, data) VALUES ($1, '\\x68690d0a')`, [id]);
    };
    await add('m1', 'acme', 100, [['a@gmail.test', 'queued'], ['b@gmail.test', 'deferred'], ['c@yahoo.test', 'delivered']]);
    await add('m2', 'acme', 200, [['d@gmail.test', 'held'], ['e@yahoo.test', 'delivering']]);
    await add('m3', 'beta', 50, [['f@gmail.test', 'queued'], ['g@gmail.test', 'bounced']]);
  } finally { await c.end(); }
}

test('postgres: mail waiting before v16 is counted by account, domain and state, and the counters go on from there', { skip }, async (t) => {
  const url = await freshDatabase(t, 'postlane_qcount');
  await seedV15(url);
  const store = new PostgresQueueStore({ url, logger: createLogger('silent'), poolSize: 2 });
  await store.open();
  try {
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
    const expected = {
      byState: [{ state: 'held', recipients: 1, oldestReceivedAt: 200 }, { state: 'queued', recipients: 1, oldestReceivedAt: 300 }],
      byDomain: [
        { domain: 'gmail.test', recipients: 1, deferred: 0, held: 1, oldestReceivedAt: 200 },
        { domain: 'yahoo.test', recipients: 1, deferred: 0, held: 0, oldestReceivedAt: 300 },
      ],
    };
    assert.deepEqual(await store.queueOverview('acme', 10), expected);
    assert.ok(await store.compactStats() > 0, 'the deltas written since the migration are folded');
    assert.deepEqual(await store.queueOverview('acme', 10), expected, 'the same after the fold');
    assert.deepEqual(await store.queueOverview('beta', 10), { byState: [], byDomain: [] });
  } finally { await store.close(); }
});
