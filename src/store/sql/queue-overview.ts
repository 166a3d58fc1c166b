// The queue overview's statements (store/queue-overview-store.ts), shared by both stores (see
// dialect.ts): $1 the account (NULL: all), $2 how many domains.
import { shared } from './dialect.js';
import type { QueueDomainCount, QueueStateCount } from '../queue-overview-store.js';

const WAITING = `FROM recipient r JOIN queued_message m ON m.id = r.message_id
  WHERE r.state IN ('queued', 'deferred', 'delivering', 'held') AND (CAST($1 AS text) IS NULL OR m.account = $1)`;

export const BY_STATE = shared(`SELECT r.state, COUNT(*) AS n, MIN(m.received_at) AS oldest ${WAITING} GROUP BY r.state ORDER BY r.state`);

export const BY_DOMAIN = shared(`SELECT r.domain, COUNT(*) AS n,
    SUM(CASE WHEN r.state = 'deferred' THEN 1 ELSE 0 END) AS deferred, SUM(CASE WHEN r.state = 'held' THEN 1 ELSE 0 END) AS held,
    MIN(m.received_at) AS oldest
  ${WAITING} GROUP BY r.domain ORDER BY COUNT(*) DESC, r.domain LIMIT $2`);

export interface StateRow { state: string; n: number | string; oldest: number | string }
export interface DomainRow { domain: string; n: number | string; deferred: number | string; held: number | string; oldest: number | string }

export const toStateCount = (r: StateRow): QueueStateCount =>
  ({ state: r.state as QueueStateCount['state'], recipients: Number(r.n), oldestReceivedAt: Number(r.oldest) });
export const toDomainCount = (r: DomainRow): QueueDomainCount =>
  ({ domain: r.domain, recipients: Number(r.n), deferred: Number(r.deferred), held: Number(r.held), oldestReceivedAt: Number(r.oldest) });
