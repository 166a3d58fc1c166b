// The queue depth on PostgreSQL (store/queue-depth-store.ts), on the shared statement
// (sql/queue-depth.ts): the counters are queue_count plus the deltas compactStats has not folded
// yet (compactQueueCounts), as the queue overview reads them (queue-overview-ops.ts).
import { depthQuery, toDepth, type DepthRow } from '../sql/queue-depth.js';
import type { QueueDepth } from '../queue-depth-store.js';
import type { Conn } from './rows.js';

const DEPTH = depthQuery('(SELECT state, n FROM queue_count UNION ALL SELECT state, n FROM queue_count_delta)');

export async function queueDepth(c: Conn): Promise<QueueDepth> {
  return toDepth((await c.query<DepthRow>(DEPTH.text)).rows);
}
