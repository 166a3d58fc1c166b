// The v6 → v7 migration of the SQLite store rebuilds the recipient table (a new final state,
// 'suppressed'): on a database holding mail with a delivery history, nothing is lost — not the
// recipients, not their ids, and not the attempt rows that refer to them (dropping the old table
// with foreign keys on would have cascaded into them).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

test('sqlite: a v6 database with queued and finished mail and attempt history migrates to v7 intact', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-v7-'));
  try {
    const v6 = new Database(path.join(dir, 'queue.db'));
    v6.pragma('foreign_keys = ON');
    for (const m of MIGRATIONS.filter((x) => x.version <= 6)) v6.exec(m.sql);
    v6.pragma('user_version = 6');
    v6.prepare(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route) VALUES ('m1', 'a@example.com', 4, 1, '{}', 0, 'relay')`).run();
    const insert = v6.prepare(`INSERT INTO recipient (id, message_id, address, domain, state, attempts, next_attempt_at, updated_at) VALUES (?, 'm1', ?, ?, ?, ?, ?, 1)`);
    insert.run(7, 'b@x.example', 'x.example', 'deferred', 2, 5);
    insert.run(9, 'c@y.example', 'y.example', 'delivered', 1, null);
    const attempt = v6.prepare(`INSERT INTO attempt (message_id, rcpt_id, at, status, host, response) VALUES ('m1', ?, ?, ?, 'mx.example', ?)`);
    attempt.run(7, 2, 'deferred', '451 try later');
    attempt.run(7, 3, 'deferred', '451 try later');
    attempt.run(9, 2, 'delivered', '250 ok');
    v6.prepare(`INSERT INTO message_body (message_id, data) VALUES ('m1', ?)`).run(Buffer.from('hi\r\n'));
    v6.close();

    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
    await store.open();
    try {
      const m = await store.getMessage('m1');
      assert.deepEqual(m!.recipients.map((r) => [r.rcptId, r.address, r.state, r.attempts]), [[7, 'b@x.example', 'deferred', 2], [9, 'c@y.example', 'delivered', 1]]);
      assert.deepEqual(m!.attempts.map((a) => [a.rcptId, a.status]), [[7, 'deferred'], [9, 'delivered'], [7, 'deferred']]);
      const [job] = await store.claimDue({ now: 10, limit: 1, leaseMs: 1000, owner: 'n' });
      assert.deepEqual(job!.recipients.map((r) => r.id), [7]);
      await store.recordResults('m1', [{ rcptId: 7, status: 'suppressed', response: '550 5.7.1 not sent', suppression: { reason: 'manual', scope: 'all', createdAt: 10, source: 'cli' } }], [], { owner: 'n' });
      assert.deepEqual((await store.getMessage('m1'))!.recipients.map((r) => r.state), ['suppressed', 'delivered'], 'the new state is allowed');
    } finally {
      await store.close();
    }
    const db = new Database(path.join(dir, 'queue.db'), { readonly: true });
    try {
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM attempt').get() as { n: number }).n, 4);
    } finally { db.close(); }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
