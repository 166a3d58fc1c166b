// The PostgreSQL store when the server's disk is slow: its WAL flush (fdatasync) takes far longer
// than storage.statementTimeout. A private server (test/helpers/pg-instance.ts, fsync on) runs
// with its data directory on a slow disk (test/helpers/slow-fs.ts). The question is the one that
// would duplicate mail: can put() fail (451 to the client, who then sends again) while its COMMIT
// is made durable anyway? PostgreSQL flushes the commit record inside a critical section, where a
// statement timeout is not acted on, so the COMMIT waits for the disk and succeeds: put() resolves
// (a late 250), it does not fail after committing. Every put is checked against the database:
// resolved ⇔ stored. And the store reports itself slow (checkWritable().slow: /readyz degraded).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PgInstance } from '../../../test/helpers/pg-instance.js';
import { TOOLS, skipUnless, toolPath } from '../../../test/helpers/require-tool.js';
import { SlowFs } from '../../../test/helpers/slow-fs.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import type { NewMessage } from '../store.js';
import { PostgresQueueStore } from './postgres-store.js';

const skip = await skipUnless(TOOLS.gcc, TOOLS.pgServerBinaries);

const message = (id: string): NewMessage => ({
  id, mailFrom: 'sender@example.org', recipients: ['rcpt@example.net'], size: 10, receivedAt: 1_000,
  origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay',
});

const STATEMENT_TIMEOUT_MS = 300;
const FSYNC_MS = 1_500;

test('postgres store on a slow disk: a commit slower than the statement timeout is waited for, never reported failed after committing',
  { skip, timeout: 90_000 }, async (t) => {
    const disk = await SlowFs.create((await toolPath(TOOLS.gcc))!);
    const server = await PgInstance.create({ parentDir: disk.dir, env: disk.env, fsync: true });
    assert.ok(server);
    let store: PostgresQueueStore | null = null;
    const admin = new pg.Client({ connectionString: server.url() });
    t.after(async () => { await admin.end().catch(() => undefined); await store?.close(); await server.cleanup(); await disk.cleanup(); });
    await server.start();
    store = new PostgresQueueStore({ url: server.url(), logger: createLogger('silent'), poolSize: 4, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
    await store.open();
    await admin.connect();

    await disk.set(FSYNC_MS);
    const ids = Array.from({ length: 6 }, () => newQueueId());
    const results = await Promise.allSettled(ids.map(async (id) => {
      const w = store!.createBody(id);
      await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
      await w.finish();
      await store!.put(message(id));
    }));
    const slow = (await store.checkWritable()).slow;
    await disk.set(0);
    const stored = new Set((await admin.query<{ id: string }>('SELECT id FROM queued_message WHERE id = ANY($1)', [ids])).rows.map((r) => r.id));
    const outcome = ids.map((id, i) => `${id}: ${results[i]!.status} ${stored.has(id) ? 'stored' : 'absent'}`);
    t.diagnostic(outcome.join('; '));
    assert.ok((await disk.delayedCalls()).some((c) => c.ms === FSYNC_MS), 'the server waited on the slow disk');
    assert.deepEqual(outcome.filter((o) => / rejected stored$| fulfilled absent$/.test(o)), [], 'resolved exactly when stored: no 451 for a committed message');
    assert.ok(results.every((r) => r.status === 'fulfilled'), 'a commit slower than the statement timeout completes');
    assert.ok(slow && slow.slowestMs >= 1_000, `the store reports itself slow: ${JSON.stringify(slow)}`);
  });
