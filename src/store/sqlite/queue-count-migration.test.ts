// The v18 → v19 migration of the SQLite store (issue 12: the queue overview's counters): mail
// waiting before it (queued, deferred, held, delivering, and finished mail that must not count)
// is counted per account, domain and state with its oldest receive time, and the counters go on
// counting what happens after it.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };

function seedV18(file: string): void {
  const db = new Database(file);
  for (const m of MIGRATIONS.filter((x) => x.version <= 18)) db.exec(m.sql);
  db.pragma('user_version = 18');
  for (const name of ['acme', 'beta']) db.prepare('INSERT INTO account (name, created_at) VALUES (?, 1)').run(name);
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
  add('m1', 'acme', 100, [['a@gmail.test', 'queued'], ['b@gmail.test', 'deferred'], ['c@yahoo.test', 'delivered']]);
  add('m2', 'acme', 200, [['d@gmail.test', 'held'], ['e@yahoo.test', 'delivering']]);
  add('m3', 'beta', 50, [['f@gmail.test', 'queued'], ['g@gmail.test', 'bounced']]);
  db.close();
}

test('sqlite: mail waiting before v19 is counted by account, domain and state, and the counters go on from there', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-v19-'));
  try {
    seedV18(path.join(dir, 'queue.db'));
    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
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
      // After the migration: the lease of the old node is given back, the queued ones delivered, new mail counted.
      assert.equal(await store.releaseLeases(null), 1);
      const jobs = await store.claimDue({ now: Date.now() + 1000, limit: 10, leaseMs: 60_000, owner: 'n' });
      for (const j of jobs) await store.recordResults(j.messageId, j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered' as const, response: '250 ok' })), [], { owner: 'n' });
      const w = store.createBody('m4');
      await w.write(Buffer.from('hi\r\n'));
      await w.finish();
      await store.put({ id: 'm4', mailFrom: 'a@sender.example', recipients: ['h@yahoo.test'], size: w.bytesWritten, receivedAt: 300, origin,
        isBounce: false, route: 'relay', meta: { account: 'acme', stream: 'transactional', tags: [], metadata: {} } });
      assert.deepEqual(await store.queueOverview('acme', 10), {
        byState: [{ state: 'held', recipients: 1, oldestReceivedAt: 200 }, { state: 'queued', recipients: 1, oldestReceivedAt: 300 }],
        byDomain: [
          { domain: 'gmail.test', recipients: 1, deferred: 0, held: 1, oldestReceivedAt: 200 },
          { domain: 'yahoo.test', recipients: 1, deferred: 0, held: 0, oldestReceivedAt: 300 },
        ],
      });
      assert.deepEqual(await store.queueOverview('beta', 10), { byState: [], byDomain: [] });
    } finally { await store.close(); }
  } finally { await fs.rm(dir, { recursive: true, force: true }); }
});
