// The statistics read, written once for both stores (see dialect.ts): the counter rows of the
// window at the grain the question needs, grouped by the asked key and metric. `source` is the
// relation read: stat_counter on SQLite; on PostgreSQL the counters plus the deltas not yet folded.
// Grain: a breakdown or filter by tag reads the daily 'tag' rows, by domain the daily 'domain'
// rows (so those windows are whole UTC days), everything else the hourly rows.
import { statsProblem, type StatsGroup, type StatsQuery } from '../stats-store.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Callers check statsProblem first: an unanswerable question here is a bug. */
function grainOf(q: StatsQuery): 'hour' | 'domain' | 'tag' {
  const problem = statsProblem(q);
  if (problem) throw new Error(`statistics query not answerable: ${problem}`);
  return q.groupBy === 'tag' || q.tag !== undefined ? 'tag' : q.groupBy === 'domain' || q.domain !== undefined ? 'domain' : 'hour';
}

function keyOf(g: StatsGroup): string {
  switch (g) {
    case 'hour': return 'CAST(bucket AS text)';
    case 'day': return `CAST(bucket - (bucket % ${DAY_MS}) AS text)`;
    case 'domain': case 'tag': return 'key';
    case 'total': return `''`;
    default: return g; // stream, account
  }
}

/**
 * Only the filters asked for are in the text (no `$n IS NULL OR …`: that would keep PostgreSQL from
 * using the primary key (account, grain, bucket, …) under a generic plan and scan every counter).
 */
export function statsQuery(source: string, q: StatsQuery): { text: string; values: unknown[] } {
  const grain = grainOf(q);
  const unit = grain === 'hour' ? HOUR_MS : DAY_MS;
  const values: unknown[] = [];
  const param = (v: unknown) => { values.push(v); return `$${values.length}`; };
  const where = [`grain = ${param(grain)}`];
  if (q.account !== null) where.push(`account = ${param(q.account)}`);
  where.push(`bucket >= ${param(Math.floor(q.from / unit) * unit)}`, `bucket < ${param(q.to)}`);
  const key = grain === 'tag' ? q.tag : grain === 'domain' ? q.domain?.toLowerCase() : undefined;
  if (key !== undefined) where.push(`key = ${param(key)}`);
  if (q.stream !== undefined) where.push(`stream = ${param(q.stream)}`);
  const text = `SELECT ${keyOf(q.groupBy)} AS k, metric, CAST(SUM(n) AS bigint) AS n FROM ${source}
    WHERE ${where.join(' AND ')} GROUP BY 1, metric`;
  return { text, values };
}
