// Statistics on PostgreSQL (store/stats-store.ts). Event writers append deltas (event-ops.ts:
// no lock on a hot counter row); compactStats folds them into stat_counter, one node at a time
// (a transaction-scoped advisory lock; the others skip), in key order; reads add both.
import { statsQuery } from '../sql/stats.js';
import { toStatsRows, type StatsQuery, type StatsRow } from '../stats-store.js';
import type { Conn } from './rows.js';

const COUNTERS = `(SELECT account, grain, bucket, stream, key, metric, n FROM stat_counter
                   UNION ALL SELECT account, grain, bucket, stream, key, metric, n FROM stat_delta) AS counters`;
/** 'postlane:stats' as an int8 advisory-lock key. */
const COMPACT_LOCK = '8101821198534536806';
const BATCH = 50_000;

export async function readStats(c: Conn, q: StatsQuery): Promise<StatsRow[]> {
  const { text, values } = statsQuery(COUNTERS, q);
  const { rows } = await c.query<{ k: string; metric: string; n: number }>(text, values);
  return toStatsRows(rows, q.groupBy);
}

/** Runs in the caller's transaction. */
export async function compactStats(c: Conn): Promise<number> {
  const { rows: [lock] } = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [COMPACT_LOCK]);
  if (!lock?.ok) return 0;
  const { rows } = await c.query<{ moved: number }>(`
    WITH moved AS (
      DELETE FROM stat_delta WHERE id IN (SELECT id FROM stat_delta ORDER BY id LIMIT ${BATCH})
      RETURNING account, grain, bucket, stream, key, metric, n),
    folded AS (
      INSERT INTO stat_counter (account, grain, bucket, stream, key, metric, n)
      SELECT account, grain, bucket, stream, key, metric, sum(n) FROM moved
      GROUP BY account, grain, bucket, stream, key, metric ORDER BY account, grain, bucket, stream, key, metric
      ON CONFLICT (account, grain, bucket, stream, key, metric) DO UPDATE SET n = stat_counter.n + excluded.n)
    SELECT count(*) AS moved FROM moved`);
  return Number(rows[0]?.moved ?? 0);
}
