// The v19 → v20 migration of the PostgreSQL store (issue 14, PostgreSQL's CPU a message): message_body's
// data is compressed with lz4 from then on instead of pglz; a body stored before it keeps pglz and reads
// back unchanged, and one stored after it is lz4 (on a server built with lz4: Debian's and PGDG's are).
// Skipped when the server is unreachable, a failure under CI=true.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '../../../test/helpers/postgres.js';
import { TOOLS, skipUnless } from '../../../test/helpers/require-tool.js';
import { createLogger } from '../../events/log.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresQueueStore } from './postgres-store.js';

const skip = await skipUnless(TOOLS.postgres);

/** A compressible body over PostgreSQL's ~2 KB TOAST threshold, as mail is. */
const BODY = Buffer.from('Subject: t\r\n\r\n' + 'the quick brown fox jumps over the lazy dog\r\n'.repeat(200));

test('postgres: v20 stores new bodies with lz4; a body stored with pglz before it reads back unchanged', { skip }, async (t) => {
  const url = await freshDatabase(t, 'postlane_bodyc');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    for (const m of MIGRATIONS.filter((x) => x.version <= 19)) {
      await c.query(m.sql);
      await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
    await c.query('INSERT INTO account (name, created_at) VALUES ($1, 1) ON CONFLICT DO NOTHING', ['default']);
    await c.query(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route) VALUES ('old', 'a@example.com', $1, 1, '{}', false, 'relay')`, [BODY.length]);
    await c.query(`INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, account, received_at) VALUES ('old', 'b@x.example', 'x.example', 'queued', 1, 1, 'default', 1)`);
    await c.query('INSERT INTO message_body (message_id, data) VALUES ($1, $2)', ['old', BODY]);
    assert.equal((await c.query(`SELECT pg_column_compression(data) AS m FROM message_body`)).rows[0].m, 'pglz', 'before v20: pglz');
  } finally {
    await c.end();
  }
  const store = new PostgresQueueStore({ url, logger: createLogger('silent'), poolSize: 2 });
  await store.open();
  const c2 = new pg.Client({ connectionString: url });
  await c2.connect();
  try {
    const lz4 = await c2.query(`SELECT 1 FROM pg_attribute WHERE attrelid = 'message_body'::regclass AND attname = 'data' AND attcompression = 'l'`);
    assert.equal(lz4.rowCount, 1, 'message_body.data is lz4 from v20');
    assert.deepEqual(await store.readMessage('old'), BODY, 'the pglz body reads back unchanged');
    await c2.query(`INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route) VALUES ('new', 'a@example.com', $1, 2, '{}', false, 'relay')`, [BODY.length]);
    await c2.query('INSERT INTO message_body (message_id, data) VALUES ($1, $2)', ['new', BODY]);
    const rows = (await c2.query(`SELECT message_id, pg_column_compression(data) AS m FROM message_body ORDER BY message_id`)).rows;
    assert.deepEqual(rows, [{ message_id: 'new', m: 'lz4' }, { message_id: 'old', m: 'pglz' }]);
    assert.deepEqual(await store.readMessage('new'), BODY, 'the lz4 body reads back unchanged');
  } finally {
    await c2.end();
    await store.close();
  }
});
