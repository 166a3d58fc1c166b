// The worker's queue overview (store/queue-overview-store.ts) on the shared statements
// (sql/queue-overview.ts), answered from the read-only connection.
import { BY_DOMAIN, BY_STATE, toDomainCount, toStateCount, type DomainRow, type StateRow } from '../sql/queue-overview.js';
import type { QueueOverview } from '../queue-overview-store.js';
import { all, type Db } from './rows.js';

export const QUEUE_OVERVIEW_READS = {
  queueOverview(db: Db, account: string | null, domains: number): QueueOverview {
    return {
      byState: all<StateRow>(db, BY_STATE, [account]).map(toStateCount),
      byDomain: all<DomainRow>(db, BY_DOMAIN, [account, domains]).map(toDomainCount),
    };
  },
};
