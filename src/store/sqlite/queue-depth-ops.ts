// The executor's queue depth (store/queue-depth-store.ts) on the shared statement
// (sql/queue-depth.ts) over queue_count: a light read, answered on the executor's own read-only
// connection, never on the heavy reads' thread (read-handlers.ts).
import { depthQuery, toDepth, type DepthRow } from '../sql/queue-depth.js';
import type { QueueDepth } from '../queue-depth-store.js';
import { all, type Db } from './rows.js';

const DEPTH = depthQuery('queue_count');

export const QUEUE_DEPTH_READS = {
  queueDepth(db: Db): QueueDepth { return toDepth(all<DepthRow>(db, DEPTH, [])); },
};
