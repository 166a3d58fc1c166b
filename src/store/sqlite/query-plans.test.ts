// Query plans of statements whose cost must not grow with the queue: checked on a fresh schema (no
// ANALYZE statistics, as a new installation runs) and with statistics of a large queued backlog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { INSERT_ATTEMPTS, SET_RESULTS, SUPPRESS_AT_ACCEPTANCE } from './write-ops.js';
import { groupsQuery } from '../sql/queue-overview.js';

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

/** Temporary b-trees a statement's program opens (OpenEphemeral), its triggers' programs included. */
function temporaryTrees(db: Database.Database, statement: string, params: unknown[]): number {
  return (db.prepare(`EXPLAIN ${statement}`).all(...params) as { opcode: string }[]).filter((r) => r.opcode === 'OpenEphemeral').length;
}

test("a recipient's insert and state changes build no temporary b-tree for a list of states, and the overview still seeks recipient_unclaimed", () => {
  const db = new Database(':memory:');
  migrate(db);
  // What is left is the column's CHECK (state IN eight states), which SQLite cannot change without
  // rebuilding the table; before v22 the counters' triggers and recipient_unclaimed's WHERE added
  // one to the insert and six to every state change (bench/README.md, thirteenth session).
  assert.equal(temporaryTrees(db, `INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, account)
    VALUES (?, ?, ?, 'queued', ?, ?, ?)`, ['Q1', 'a@b.test', 'b.test', 1, 1, 'acme']), 1);
  assert.equal(temporaryTrees(db, "UPDATE recipient SET state = 'delivering', lease_owner = ?, lease_until = ? WHERE id = ?", ['n', 2, 1]), 1);
  assert.equal(temporaryTrees(db, 'UPDATE recipient SET state = ?, lease_owner = NULL WHERE id = ?', ['delivered', 1]), 1);
  assert.match(plan(db, groupsQuery('queue_count').sqlite, [{ p1: null }]), /SEARCH r USING COVERING INDEX recipient_unclaimed \(account=\? AND domain=\? AND state=\?\)/);
  db.close();
});

test("a result's update and attempt rows for several recipients seek each by id, not every recipient of the message", () => {
  const db = new Database(':memory:');
  migrate(db);
  const ids = [1, 2, 3, 4, 5];
  const update = [SET_RESULTS.text(5), ['delivered', null, '250 ok', 1, 'Q1', null, null, ...ids]] as const;
  const attempts = [INSERT_ATTEMPTS.text(5), [1, 'delivered', 'mx', '250 ok', null, null, null, 3, 'Q1', ...ids]] as const;
  const byId = /SEARCH recipient USING INTEGER PRIMARY KEY \(rowid=\?\)/;
  for (const [q, params] of [update, attempts]) assert.match(plan(db, q, [...params]), byId);
  db.exec('ANALYZE');
  // A message with many recipients, and the message index looking selective: still by id.
  db.exec(`DELETE FROM sqlite_stat1 WHERE tbl = 'recipient';
    INSERT INTO sqlite_stat1 VALUES ('recipient', 'recipient_message', '1000000 2 1'), ('recipient', 'recipient_state', '1000000 250000');
    ANALYZE sqlite_schema;`);
  for (const [q, params] of [update, attempts]) assert.match(plan(db, q, [...params]), byId);
  db.close();
});
