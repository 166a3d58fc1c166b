// Owns the one way PostgreSQL counters are folded (statistics, queue counts): writers append rows
// of (key columns…, n) to a delta table so no hot counter row is locked at write time; the holder
// of a transaction-scoped advisory lock (one node at a time, the others skip) moves a batch of
// deltas, oldest first, into the counter table, summed per key and in key order.
import type { Conn } from './rows.js';

const BATCH = 50_000;

export interface DeltaFold {
  /** An int8 advisory-lock key of its own. */
  lock: string;
  deltas: string;
  counters: string;
  /** The counter table's primary key columns. */
  key: readonly string[];
}

/** Folds up to one batch in the caller's transaction; the number of deltas moved (0: another node holds the lock). */
export async function foldDeltas(c: Conn, f: DeltaFold): Promise<number> {
  const { rows: [lock] } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [f.lock]);
  if (!lock?.ok) return 0;
  const key = f.key.join(', ');
  const { rows } = await c.query<{ moved: number }>(`
    WITH moved AS (
      DELETE FROM ${f.deltas} WHERE id IN (SELECT id FROM ${f.deltas} ORDER BY id LIMIT ${BATCH})
      RETURNING ${key}, n),
    folded AS (
      INSERT INTO ${f.counters} (${key}, n)
      SELECT ${key}, sum(n) FROM moved GROUP BY ${key} ORDER BY ${key}
      ON CONFLICT (${key}) DO UPDATE SET n = ${f.counters}.n + excluded.n)
    SELECT count(*) AS moved FROM moved`);
  return Number(rows[0]?.moved ?? 0);
}
