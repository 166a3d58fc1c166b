// The queue overview on PostgreSQL (store/queue-overview-store.ts), on the shared statement
// (sql/queue-overview.ts): the counters are queue_count plus the deltas compactStats has not
// folded yet (compactQueueCounts), added up per group.
import { groupsQuery, toOverview, type GroupRow } from '../sql/queue-overview.js';
import type { QueueOverview } from '../queue-overview-store.js';
import { foldDeltas } from './fold-deltas.js';
import type { Conn } from './rows.js';

const GROUPS = groupsQuery(`(SELECT account, domain, state, sum(n) AS n FROM (
    SELECT account, domain, state, n FROM queue_count WHERE CAST($1 AS text) IS NULL OR account = $1
    UNION ALL SELECT account, domain, state, n FROM queue_count_delta WHERE CAST($1 AS text) IS NULL OR account = $1) AS u
  GROUP BY account, domain, state)`);

/** 'postlane:qcount' as an int8 advisory-lock key. */
const COMPACT_LOCK = '8101821198534536807';

export async function queueOverview(c: Conn, account: string | null, domains: number): Promise<QueueOverview> {
  return toOverview((await c.query<GroupRow>(GROUPS.text, [account])).rows, domains);
}

/**
 * Folds the recipient triggers' deltas into queue_count, one node at a time (the others skip), in
 * key order, and drops the groups left at zero. Runs in the caller's transaction (compactStats).
 */
export async function compactQueueCounts(c: Conn): Promise<number> {
  const moved = await foldDeltas(c, { lock: COMPACT_LOCK, deltas: 'queue_count_delta', counters: 'queue_count', key: ['account', 'domain', 'state'] });
  // Only the holder of the lock changes queue_count, so a group at zero stays at zero until it
  // deletes it (a new delta for it goes to queue_count_delta). Without the lock, moved is 0 and
  // nothing is deleted here either.
  if (moved > 0) await c.query('DELETE FROM queue_count WHERE n = 0');
  return moved;
}
