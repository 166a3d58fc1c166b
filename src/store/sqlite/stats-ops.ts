// The executor's statistics read (store/stats-store.ts): the shared query over stat_counter, which
// the event writers keep up to date directly (effect-ops.ts), so there is nothing to compact; the
// periodic compaction only drops the queue overview's groups left at zero (queue_count, kept by
// the recipient triggers of migration v19), so domains mailed once do not stay in it for ever.
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
  compactStats(db: Db, _fx: Effects): number {
    sql(db, 'DELETE FROM queue_count WHERE n = 0').run();
    return 0;
  },
};
