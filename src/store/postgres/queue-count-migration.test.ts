// The v15 → v16 migration of the PostgreSQL store (issue 12: the queue overview's counters): mail
// waiting before it (queued, deferred, held, delivering, and finished mail that must not count)
// is counted per account, domain and state with its oldest receive time, and the counters go on
// counting what happens after it, before and after compactStats folds their deltas. And v17 → v18
// (issue 14): delivering recipients are no longer counted (the overview reads the ones in flight)
// and recipient_unclaimed, without them, replaces recipient_waiting; the same mail keeps its counts
// and oldest times. Skipped when the server is unreachable, a failure under
// CI=true.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '../../../test/helpers/postgres.js';
import { AFTER_NEW_MAIL, SEED_ACCOUNTS, SEED_MESSAGES, checkMigratedCounts } from '../../../test/helpers/queue-count-migration.js';
import { TOOLS, skipUnless } from '../../../test/helpers/require-tool.js';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresQueueStore } from './postgres-store.js';

const skip = await skipUnless(TOOLS.postgres);

/** SEED_MESSAGES written in the schema of `version` (15: before the counters; 17: before recipient_unclaimed). */
async function seedAt(url: string, version: 15 | 17): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
      await c.query(m.sql);
      await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
    for (const name of SEED_ACCOUNTS) await c.query('INSERT INTO account (name, created_at) VALUES ($1, 1)', [name]);
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
    for (const [id, account, receivedAt, rcpts] of SEED_MESSAGES) await add(id, account, receivedAt, rcpts);
    // From v16 a recipient carries its message's account and receive time (the v16 migration copied them).
    if (version >= 16) await c.query('UPDATE recipient r SET account = m.account, received_at = m.received_at FROM queued_message m WHERE m.id = r.message_id');
  } finally { await c.end(); }
}

/**
 * Opens (so migrates) a store over SEED_MESSAGES written at `version`, runs `schema` on the database,
 * then the checks every migration keeps: checkMigratedCounts, and the same after compactStats.
 */
async function checkFrom(t: TestContext, version: 15 | 17, schema: (c: pg.Client) => Promise<void> = async () => {}): Promise<void> {
  const url = await freshDatabase(t, `postlane_qcount_v${version}`);
  await seedAt(url, version);
  const store = new PostgresQueueStore({ url, logger: createLogger('silent'), poolSize: 2 });
  await store.open();
  try {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try { await schema(c); } finally { await c.end(); }
    await checkMigratedCounts(store);
    assert.ok(await store.compactStats() > 0, 'the deltas written since the migration are folded');
    assert.deepEqual(await store.queueOverview('acme', 10), AFTER_NEW_MAIL, 'the same after the fold');
    assert.deepEqual(await store.queueOverview('beta', 10), { byState: [], byDomain: [] });
  } finally { await store.close(); }
}

test('postgres: mail waiting before v16 is counted by account, domain and state, and the counters go on from there', { skip }, async (t) => {
  await checkFrom(t, 15);
});

test('postgres: v18 neither counts delivering recipients nor indexes them (recipient_unclaimed); the counts and oldest times go on as before', { skip }, async (t) => {
  await checkFrom(t, 17, async (c) => {
    const { rows } = await c.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ('recipient_waiting', 'recipient_unclaimed')");
    assert.deepEqual(rows.map((r) => r.indexname), ['recipient_unclaimed']);
    assert.match(rows[0]!.indexdef, /WHERE \(state = ANY \(ARRAY\['queued'::text, 'deferred'::text, 'held'::text\]\)\)$/);
    const { rows: counted } = await c.query("SELECT 1 FROM queue_count WHERE state = 'delivering' UNION ALL SELECT 1 FROM queue_count_delta WHERE state = 'delivering'");
    assert.deepEqual(counted, [], 'no counter of delivering recipients is left');
  });
});
