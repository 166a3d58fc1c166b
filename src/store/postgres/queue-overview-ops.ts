// The queue overview on PostgreSQL (store/queue-overview-store.ts), on the shared statements
// (sql/queue-overview.ts).
import { BY_DOMAIN, BY_STATE, toDomainCount, toStateCount, type DomainRow, type StateRow } from '../sql/queue-overview.js';
import type { QueueOverview } from '../queue-overview-store.js';
import type { Conn } from './rows.js';

export async function queueOverview(c: Conn, account: string | null, domains: number): Promise<QueueOverview> {
  const byState = (await c.query<StateRow>(BY_STATE.text, [account])).rows.map(toStateCount);
  const byDomain = (await c.query<DomainRow>(BY_DOMAIN.text, [account, domains])).rows.map(toDomainCount);
  return { byState, byDomain };
}
