// The v18 → v19 migration of the SQLite store (issue 12: the queue overview's counters): mail
// waiting before it (queued, deferred, held, delivering, and finished mail that must not count)
// is counted per account, domain and state with its oldest receive time, and the counters go on
// counting what happens after it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SEED_ACCOUNTS, SEED_MESSAGES, checkMigratedCounts } from '../../../test/helpers/queue-count-migration.js';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

function seedV18(file: string): void {
  const db = new Database(file);
  for (const m of MIGRATIONS.filter((x) => x.version <= 18)) db.exec(m.sql);
  db.pragma('user_version = 18');
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
  db.close();
}

test('sqlite: mail waiting before v19 is counted by account, domain and state, and the counters go on from there', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-v19-'));
  try {
    seedV18(path.join(dir, 'queue.db'));
    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
    await store.open();
    try {
      await checkMigratedCounts(store);
    } finally { await store.close(); }
  } finally { await fs.rm(dir, { recursive: true, force: true }); }
});
