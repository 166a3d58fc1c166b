// The v18 → v19 migration of the SQLite store (issue 12: the queue overview's counters): mail
// waiting before it (queued, deferred, held, delivering, and finished mail that must not count)
// is counted per account, domain and state with its oldest receive time, and the counters go on
// counting what happens after it. And v20 → v21 (issue 14): delivering recipients are no longer
// counted (the overview reads the ones in flight) and recipient_unclaimed, without them, replaces
// recipient_waiting; the same mail keeps its counts and oldest times.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SEED_ACCOUNTS, SEED_MESSAGES, checkMigratedCounts } from '../../../test/helpers/queue-count-migration.js';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

/** SEED_MESSAGES written in the schema of `version` (18: before the counters; 20: before recipient_unclaimed). */
function seedAt(file: string, version: 18 | 20): void {
  const db = new Database(file);
  for (const m of MIGRATIONS.filter((x) => x.version <= version)) db.exec(m.sql);
  db.pragma(`user_version = ${version}`);
  for (const name of SEED_ACCOUNTS) db.prepare('INSERT INTO account (name, created_at) VALUES (?, 1)').run(name);
  const msg = db.prepare(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route, account, stream)
                          VALUES (?, 'a@sender.example', 4, ?, '{}', 0, 'relay', ?, 'transactional')`);
  const rcpt = db.prepare(`INSERT INTO recipient (message_id, address, domain, state, attempts, next_attempt_at, lease_owner, lease_until, updated_at, stream, account)
                           VALUES (?, ?, ?, ?, 0, 1, ?, ?, 1, 'transactional', ?)`);
  const add = (id: string, account: string, receivedAt: number, rcpts: [string, string][]) => {
    msg.run(id, receivedAt, account);
    for (const [address, state] of rcpts) {
      const leased = state === 'delivering';
      rcpt.run(id, address, address.split('@')[1], state, leased ? 'old-node' : null, leased ? 2 : null, account);
    }
    db.prepare('INSERT INTO message_body (message_id, data) VALUES (?, ?)').run(id, Buffer.from('hi\r\n'));
  };
  for (const [id, account, receivedAt, rcpts] of SEED_MESSAGES) add(id, account, receivedAt, rcpts);
  // From v19 a recipient carries its message's receive time (the v19 migration copied it).
  if (version >= 19) db.exec('UPDATE recipient SET received_at = (SELECT received_at FROM queued_message m WHERE m.id = message_id)');
  db.close();
}

async function withStoreFrom(version: 18 | 20, check: (store: SqliteQueueStore, file: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `postlane-v${version}-`));
  try {
    seedAt(path.join(dir, 'queue.db'), version);
    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
    await store.open();
    try {
      await check(store, path.join(dir, 'queue.db'));
    } finally { await store.close(); }
  } finally { await fs.rm(dir, { recursive: true, force: true }); }
}

test('sqlite: mail waiting before v19 is counted by account, domain and state, and the counters go on from there', async () => {
  await withStoreFrom(18, (store) => checkMigratedCounts(store));
});

test('sqlite: v21 neither counts delivering recipients nor indexes them (recipient_unclaimed); the counts and oldest times go on as before', async () => {
  await withStoreFrom(20, async (store, file) => {
    const db = new Database(file, { readonly: true });
    try {
      const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN ('recipient_waiting', 'recipient_unclaimed')").all() as { name: string; sql: string }[];
      assert.deepEqual(indexes.map((i) => i.name), ['recipient_unclaimed']);
      // (v22 writes the same WHERE as two short lists: query-plans.test.ts)
      assert.match(indexes[0]!.sql, /WHERE state IN \('queued', 'deferred'\) OR state = 'held'$/);
      assert.deepEqual(db.prepare("SELECT * FROM queue_count WHERE state = 'delivering'").all(), [], 'no counter of delivering recipients is left');
    } finally { db.close(); }
    await checkMigratedCounts(store);
  });
});
