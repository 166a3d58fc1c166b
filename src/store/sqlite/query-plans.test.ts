// Query plans of statements whose cost must not grow with the queue: checked on a fresh schema (no
// ANALYZE statistics, as a new installation runs) and with statistics of a large queued backlog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { SUPPRESS_AT_ACCEPTANCE } from './write-ops.js';

function plan(db: Database.Database, statement: string, params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${statement}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
}

test("intake's suppression update reads only the message's own recipients", () => {
  const db = new Database(':memory:');
  migrate(db);
  const params = ['550 suppressed', 1, 'Q1', 'a@b.test'];
  assert.match(plan(db, SUPPRESS_AT_ACCEPTANCE, params), /USING INDEX recipient_message \(message_id=\?\)/);
  db.exec('ANALYZE');
  db.exec(`DELETE FROM sqlite_stat1 WHERE tbl = 'recipient';
    INSERT INTO sqlite_stat1 VALUES ('recipient', 'recipient_state', '1000000 250000'), ('recipient', 'recipient_message', '1000000 2 1');
    ANALYZE sqlite_schema;`);
  assert.match(plan(db, SUPPRESS_AT_ACCEPTANCE, params), /USING INDEX recipient_message \(message_id=\?\)/);
  db.close();
});
