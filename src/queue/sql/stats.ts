// The statistics read, written once for both stores (see dialect.ts): the counter rows of the
// window, grouped by the asked key and metric. `source` is the relation read: stat_counter on
// SQLite; on PostgreSQL the counters plus the deltas not yet folded into them.
import { groupKey, type StatsQuery } from '../stats-store.js';

const HOUR_MS = 3_600_000;

export function statsQuery(source: string, q: StatsQuery): { text: string; values: unknown[] } {
  const byTag = q.groupBy === 'tag' || q.tag !== undefined;
  const text = `SELECT ${groupKey(q.groupBy)} AS k, metric, CAST(SUM(n) AS bigint) AS n FROM ${source}
    WHERE (CAST($1 AS text) IS NULL OR account = $1) AND hour >= $2 AND hour < $3
      AND ${byTag ? `tag <> '' AND (CAST($4 AS text) IS NULL OR tag = $4)` : `tag = '' AND CAST($4 AS text) IS NULL`}
      AND (CAST($5 AS text) IS NULL OR stream = $5) AND (CAST($6 AS text) IS NULL OR domain = $6)
    GROUP BY 1, metric`;
  const from = Math.floor(q.from / HOUR_MS) * HOUR_MS;
  return { text, values: [q.account, from, q.to, q.tag ?? null, q.stream ?? null, q.domain?.toLowerCase() ?? null] };
}
