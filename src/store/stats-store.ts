// The statistics half of the store contract (issue 10): counters of events per hour, account,
// stream, recipient domain and tag, maintained by the event writers in the transactions that
// write the events (store/event-effects.ts decides what counts), so a statistics call reads a few
// pre-aggregated rows instead of scanning the event log. Metrics are the event types, with
// bounces split by class and opens/clicks also counted unique and machine (see metricsOf).

export type StatsGroup = 'hour' | 'day' | 'domain' | 'stream' | 'tag' | 'account' | 'total';
export const STATS_GROUPS: readonly StatsGroup[] = ['hour', 'day', 'domain', 'stream', 'tag', 'account', 'total'];

export interface StatsQuery {
  /** null: every account (the admin view). */
  account: string | null;
  /** ms, inclusive; counted by whole hours (whole days for domain and tag statistics). */
  from: number;
  /** ms, exclusive. */
  to: number;
  groupBy: StatsGroup;
  stream?: string;
  domain?: string;
  /** Only messages with this tag. */
  tag?: string;
}

/** One group: its key ('' for total; the hour or day start in ms as text; a domain, stream, tag or account) and its counts. */
export interface StatsRow { key: string; metrics: Record<string, number> }

export interface StatsStore {
  /** Groups in key order (numerically for hour/day). */
  readStats(q: StatsQuery): Promise<StatsRow[]>;
  /**
   * Folds counters written as deltas into their rows (PostgreSQL: the statistics and the queue
   * overview's queue_count; SQLite: drops queue_count groups left at zero); returns the deltas folded.
   */
  compactStats(): Promise<number>;
}

/**
 * Why the counters cannot answer `q` (the API answers 400, the CLI exits 2), or null. Domain and
 * tag counters are kept per UTC day, each on its own (not per hour, nor crossed).
 */
export function statsProblem(q: Pick<StatsQuery, 'groupBy' | 'tag' | 'domain'>): string | null {
  const byTag = q.groupBy === 'tag' || q.tag !== undefined;
  const byDomain = q.groupBy === 'domain' || q.domain !== undefined;
  if (byTag && byDomain) return 'domain and tag cannot be combined (counters are kept per domain or per tag)';
  if ((byTag || byDomain) && q.groupBy === 'hour') return 'domain and tag statistics are kept per day: group by day';
  return null;
}

/** Rows of (k, metric, n) into groups, in key order. */
export function toStatsRows(rows: { k: string; metric: string; n: number | string }[], g: StatsGroup): StatsRow[] {
  const groups = new Map<string, Record<string, number>>();
  for (const r of rows) {
    const m = groups.get(r.k) ?? {};
    m[r.metric] = (m[r.metric] ?? 0) + Number(r.n);
    groups.set(r.k, m);
  }
  const numeric = g === 'hour' || g === 'day';
  return [...groups.entries()]
    .sort(([a], [b]) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0))
    .map(([key, metrics]) => ({ key, metrics }));
}
