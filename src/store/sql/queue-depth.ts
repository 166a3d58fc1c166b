// The queue depth's statement (store/queue-depth-store.ts), shared by both stores (see dialect.ts):
// the waiting states summed over the counters the recipient triggers keep per (account, domain,
// state) (SQLite queue_count; PostgreSQL queue_count plus the deltas compactQueueCounts has not
// folded yet), and the recipients in flight counted on the 'delivering' range of an index on state
// (both planners take recipient_state's; as many entries as the claims lease: delivery
// concurrency). Neither reads a finished recipient, so the cost does not grow with the history
// kept (bench/README.md, twenty-seventh session: 0.2 / 0.7 ms at 1,000,000 recipients).
import { shared, type SharedQuery } from './dialect.js';
import type { QueueDepth } from '../queue-depth-store.js';

/** `counters`: a table or subquery with state and n. */
export function depthQuery(counters: string): SharedQuery {
  return shared(`
  SELECT c.state, SUM(c.n) AS n FROM ${counters} c GROUP BY c.state
  UNION ALL
  SELECT 'delivering' AS state, COUNT(*) AS n FROM recipient WHERE state = 'delivering'`);
}

export interface DepthRow { state: string; n: number | string | null }

export function toDepth(rows: readonly DepthRow[]): QueueDepth {
  const out: QueueDepth = { queued: 0, deferred: 0, delivering: 0, held: 0 };
  for (const r of rows) if (r.state in out) out[r.state as keyof QueueDepth] = Number(r.n ?? 0);
  return out;
}
