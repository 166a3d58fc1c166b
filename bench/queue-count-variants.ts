// The queue counters' designs that bench/queue-count-cost.ts and bench/queue-count-sql.ts compare,
// each as the statements that turn a store at the latest schema into it: "v21" (SQLite v21,
// PostgreSQL v18, as migrated: delivering recipients neither counted nor in recipient_unclaimed),
// "v20" (the v19/v16 triggers, which count delivering too, taken from their own migrations, and
// recipient_waiting), "triggers" (the v21 triggers, no index: the counters' own cost) and "none"
// (no trigger, no index: the v18 write path).
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations.js';
import { MIGRATIONS as PG_MIGRATIONS } from '../src/store/postgres/migrations.js';

const TRIGGERS = ['queue_count_insert', 'queue_count_delete', 'queue_count_update'];
const V20_INDEX = `CREATE INDEX recipient_waiting ON recipient (account, domain, state, received_at)
  WHERE state IN ('queued', 'deferred', 'delivering', 'held')`;
const sqlOf = (migrations: readonly { version: number; sql: string }[], version: number) => migrations.find((m) => m.version === version)!.sql;
/** The v20 design's counters as its migrations wrote them: SQLite's v19 triggers, PostgreSQL's v16 trigger functions. */
const V20_SQLITE = ['DROP TRIGGER queue_count_insert; DROP TRIGGER queue_count_delete; DROP TRIGGER queue_count_update;',
  sqlOf(SQLITE_MIGRATIONS, 19).slice(sqlOf(SQLITE_MIGRATIONS, 19).indexOf('CREATE TRIGGER queue_count_insert'))];
const pgV16 = sqlOf(PG_MIGRATIONS, 16);
const V20_PG = [pgV16.slice(pgV16.indexOf('CREATE FUNCTION queue_count_inserted'), pgV16.indexOf('CREATE TRIGGER queue_count_insert'))
  .replaceAll('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION')];
export const MODES = ['none', 'triggers', 'v20', 'v21'] as const;
export type Mode = typeof MODES[number];
/** The statements that turn the latest schema into `mode`'s (`on`: PostgreSQL's DROP TRIGGER … ON recipient). */
export const alter = (mode: Mode, on: string): string[] => [
  ...(mode === 'none' ? TRIGGERS.map((t) => `DROP TRIGGER ${t}${on}`) : []),
  ...(mode === 'v21' ? [] : ['DROP INDEX recipient_unclaimed']),
  ...(mode === 'v20' ? [V20_INDEX, ...(on === '' ? V20_SQLITE : V20_PG)] : []),
];
