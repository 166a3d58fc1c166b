// The statistics half of the store contract (issue 10): counters of events per hour, account,
// stream, recipient domain and tag, maintained by the event writers in the transactions that
// write the events (queue/event-effects.ts decides what counts), so a statistics call reads a few
// pre-aggregated rows instead of scanning the event log. Metrics are the event types, with
// bounces split by class and opens/clicks also counted unique and machine (see metricsOf).

export type StatsGroup = 'hour' | 'day' | 'domain' | 'stream' | 'tag' | 'account' | 'total';
export const STATS_GROUPS: readonly StatsGroup[] = ['hour', 'day', 'domain', 'stream', 'tag', 'account', 'total'];

export interface StatsQuery {
  /** null: every account (the admin view). */
  account: string | null;
  /** ms, inclusive; counted by whole hours (the hour containing `from` is included). */
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
  /** Folds counters written as deltas into their rows (PostgreSQL); returns the deltas folded. */
  compactStats(): Promise<number>;
}

const DAY_MS = 86_400_000;
/** The SQL expression of a group's key over a counter row (both dialects). */
export function groupKey(g: StatsGroup): string {
  switch (g) {
    case 'hour': return 'CAST(hour AS text)';
    case 'day': return `CAST(hour - (hour % ${DAY_MS}) AS text)`;
    case 'total': return `''`;
    default: return g;
  }
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
