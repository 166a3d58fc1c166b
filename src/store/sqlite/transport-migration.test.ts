// The v8 → v10 migration of the SQLite store (issue 13: require_tls, smtputf8, tls_optional on
// queued_message): mail queued before it is delivered as before — its job needs nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

test('sqlite: mail queued before v10 migrates with no transport needs', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-v10-'));
  try {
    const v8 = new Database(path.join(dir, 'queue.db'));
    for (const m of MIGRATIONS.filter((x) => x.version <= 8)) v8.exec(m.sql);
    v8.pragma('user_version = 8');
    v8.prepare(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route) VALUES ('m1', 'a@example.com', 4, 1, '{}', 0, 'relay')`).run();
    v8.prepare(`INSERT INTO recipient (id, message_id, address, domain, state, attempts, next_attempt_at, updated_at) VALUES (1, 'm1', 'b@x.example', 'x.example', 'queued', 0, 1, 1)`).run();
    v8.prepare(`INSERT INTO message_body (message_id, data) VALUES ('m1', ?)`).run(Buffer.from('hi\r\n'));
    v8.close();
    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
    await store.open();
    try {
      const [job] = await store.claimDue({ now: 10, limit: 1, leaseMs: 1000, owner: 'n' });
      assert.deepEqual(job!.transport, { requireTls: false, smtpUtf8: false, tlsOptional: false });
    } finally {
      await store.close();
    }
    const db = new Database(path.join(dir, 'queue.db'), { readonly: true });
    try { assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS[MIGRATIONS.length - 1]!.version); } finally { db.close(); }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
