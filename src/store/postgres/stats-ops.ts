// Statistics on PostgreSQL (store/stats-store.ts). Event writers append deltas (event-ops.ts:
// no lock on a hot counter row); compactStats folds them into stat_counter, one node at a time
// (a transaction-scoped advisory lock; the others skip), in key order; reads add both.
import { statsQuery } from '../sql/stats.js';
import { toStatsRows, type StatsQuery, type StatsRow } from '../stats-store.js';
import { foldDeltas } from './fold-deltas.js';
import type { Conn } from './rows.js';

const COUNTERS = `(SELECT account, grain, bucket, stream, key, metric, n FROM stat_counter
                   UNION ALL SELECT account, grain, bucket, stream, key, metric, n FROM stat_delta) AS counters`;
/** 'postlane:stats' as an int8 advisory-lock key. */
const COMPACT_LOCK = '8101821198534536806';

export async function readStats(c: Conn, q: StatsQuery): Promise<StatsRow[]> {
  const { text, values } = statsQuery(COUNTERS, q);
  const { rows } = await c.query<{ k: string; metric: string; n: number }>(text, values);
  return toStatsRows(rows, q.groupBy);
}

/** Runs in the caller's transaction. */
export async function compactStats(c: Conn): Promise<number> {
  return foldDeltas(c, { lock: COMPACT_LOCK, deltas: 'stat_delta', counters: 'stat_counter', key: ['account', 'grain', 'bucket', 'stream', 'key', 'metric'] });
}
