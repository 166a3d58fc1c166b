// The worker's statistics read (store/stats-store.ts): the shared query over stat_counter, which
// the event writers keep up to date directly (effect-ops.ts), so there is nothing to compact.
import { sqliteArgs, shared } from '../sql/dialect.js';
import { statsQuery } from '../sql/stats.js';
import { toStatsRows, type StatsQuery, type StatsRow } from '../stats-store.js';
import { sql, type Db, type Effects } from './rows.js';

export const STATS_READS = {
  readStats(db: Db, q: StatsQuery): StatsRow[] {
    const { text, values } = statsQuery('stat_counter', q);
    const rows = sql(db, shared(text).sqlite).all(sqliteArgs(values)) as { k: string; metric: string; n: number }[];
    return toStatsRows(rows, q.groupBy);
  },
};

export const STATS_WRITES = {
  compactStats(_db: Db, _fx: Effects): number { return 0; },
};
