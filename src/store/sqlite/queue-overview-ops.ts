// The executor's queue overview (store/queue-overview-store.ts) on the shared statement
// (sql/queue-overview.ts) over queue_count, answered from the read-only connection.
import { groupsQuery, toOverview, type GroupRow } from '../sql/queue-overview.js';
import type { QueueOverview } from '../queue-overview-store.js';
import { all, type Db } from './rows.js';

const GROUPS = groupsQuery('queue_count');

export const QUEUE_OVERVIEW_READS = {
  queueOverview(db: Db, account: string | null, domains: number): QueueOverview {
    return toOverview(all<GroupRow>(db, GROUPS, [account]), domains);
  },
};
