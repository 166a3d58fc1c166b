// The v13 → v17 migration of the SQLite store (issue 14: the recipient row carries its message's
// account, and claimDue walks the covering index recipient_due_claim): mail queued before it is
// claimed in the same fair order as before — transactional first, accounts in turn — nextDueAt
// still sees both streams, and mail queued after it carries its account too.
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

function seedV13(file: string): void {
  const db = new Database(file);
  for (const m of MIGRATIONS.filter((x) => x.version <= 13)) db.exec(m.sql);
  db.pragma('user_version = 13');
  for (const name of ['bulk', 'news', 'shop']) db.prepare('INSERT INTO account (name, created_at) VALUES (?, 1)').run(name);
  const msg = db.prepare(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route, account, stream)
                          VALUES (?, ?, 4, 1, '{}', 0, 'relay', ?, ?)`);
  const rcpt = db.prepare(`INSERT INTO recipient (message_id, address, domain, state, attempts, next_attempt_at, updated_at, stream)
                           VALUES (?, ?, 'x.example', ?, ?, ?, 1, ?)`);
  const body = db.prepare('INSERT INTO message_body (message_id, data) VALUES (?, ?)');
  const add = (id: string, account: string, stream: string, dueAt: number, state = 'queued') => {
    msg.run(id, `${account}@${account}.example`, account, stream);
    rcpt.run(id, `${id}@x.example`, state, state === 'deferred' ? 1 : 0, dueAt, stream);
    body.run(id, Buffer.from('hi\r\n'));
  };
  // bulk's broadcast backlog is due first; news's broadcast and shop's transactional mail later.
  for (let i = 0; i < 6; i++) add(`b${i}`, 'bulk', 'broadcast', 10 + i, i % 2 ? 'deferred' : 'queued');
  for (let i = 0; i < 2; i++) add(`n${i}`, 'news', 'broadcast', 30 + i);
  add('s0', 'shop', 'transactional', 40);
  add('later', 'shop', 'transactional', 5_000);
  db.close();
}

test('sqlite: mail queued before v17 is claimed transactional first, accounts in turn, and carries its account', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-v17-'));
  const file = path.join(dir, 'queue.db');
  try {
    seedV13(file);
    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
    await store.open();
    try {
      assert.equal(await store.nextDueAt(), 10);
      const jobs = await store.claimDue({ now: 100, limit: 5, leaseMs: 60_000, owner: 'n' });
      assert.deepEqual(jobs.map((j) => j.messageId), ['s0', 'b0', 'n0', 'b1', 'n1']);
      assert.deepEqual(jobs.map((j) => j.account), ['shop', 'bulk', 'news', 'bulk', 'news']);
      assert.equal(await store.nextDueAt(), 12, 'the next waiting broadcast recipient');
      await store.addAccount({ name: 'fresh', createdAt: 1, limits: {} });
      const w = store.createBody('f0');
      await w.write(Buffer.from('hi\r\n'));
      await w.finish();
      await store.put({ id: 'f0', mailFrom: 'a@fresh.example', recipients: ['z@y.example'], size: w.bytesWritten, receivedAt: 50, origin,
        isBounce: false, route: 'relay', meta: { account: 'fresh', stream: 'broadcast', tags: [], metadata: {} } });
      const next = await store.claimDue({ now: 100, limit: 3, leaseMs: 60_000, owner: 'n' });
      assert.deepEqual(next.map((j) => j.messageId), ['b2', 'f0', 'b3']);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS[MIGRATIONS.length - 1]!.version);
      const rows = db.prepare('SELECT message_id, account FROM recipient ORDER BY message_id').all() as { message_id: string; account: string }[];
      for (const r of rows) assert.equal(r.account, r.message_id.startsWith('b') ? 'bulk' : r.message_id.startsWith('n') ? 'news' : r.message_id === 'f0' ? 'fresh' : 'shop', r.message_id);
    } finally { db.close(); }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
