// The v5 → v6 migration of the SQLite store on a database holding data: what existed before
// accounts belongs to the 'default' account, queued mail keeps flowing (and from then on writes
// events), and the default account cannot be removed.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './sqlite-store.js';

test('sqlite: a v5 database with users, domains and queued mail migrates to accounts; the mail is delivered with events', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-accounts-'));
  try {
    const v5 = new Database(path.join(dir, 'queue.db'));
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) v5.exec(m.sql);
    v5.pragma('user_version = 5');
    v5.prepare('INSERT INTO smtp_user (name, password_hash, created_at) VALUES (?, ?, ?)').run('app', 'h', 1);
    v5.prepare('INSERT INTO sending_domain (name, created_at) VALUES (?, ?)').run('example.com', 1);
    v5.prepare(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route) VALUES ('m1', 'a@example.com', 4, 1, '{}', 0, 'relay')`).run();
    v5.prepare(`INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at) VALUES ('m1', 'b@x.example', 'x.example', 'queued', 1, 1)`).run();
    v5.prepare(`INSERT INTO message_body (message_id, data) VALUES ('m1', ?)`).run(Buffer.from('hi\r\n'));
    v5.close();

    const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
    await store.open();
    try {
      assert.deepEqual((await store.listAccounts()).map((a) => a.name), ['default']);
      assert.equal((await store.getUser('app'))?.account, 'default');
      assert.equal((await store.getDomain('example.com'))?.account, 'default');
      assert.deepEqual(await store.getMessageMeta('m1'), { account: 'default', tags: [], metadata: {}, stream: 'transactional' });
      assert.deepEqual(await store.listEvents({ account: 'default' }), [], 'no events are invented for mail accepted before');
      const [job] = await store.claimDue({ now: 10, limit: 1, leaseMs: 1000, owner: 'n' });
      await store.recordResults('m1', [{ rcptId: job!.recipients[0]!.id, status: 'delivered', response: '250 ok' }], [], { owner: 'n' });
      assert.deepEqual((await store.listEvents({ account: 'default' })).map((e) => [e.type, e.messageId, e.recipient]), [['delivered', 'm1', 'b@x.example']]);
      assert.deepEqual((await store.searchMessages({ account: 'default' })).map((m) => m.id), ['m1']);
      await assert.rejects(store.removeAccount('default'), { code: 'ERR_ACCOUNT_DEFAULT' });
    } finally {
      await store.close();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
