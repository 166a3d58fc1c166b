// The queue overview's statements (store/queue-overview-store.ts), shared by both stores (see
// dialect.ts): $1 the account (NULL: all). The queued, deferred and held recipients are counted per
// (account, domain, state) in the counters the recipient triggers keep (SQLite queue_count;
// PostgreSQL queue_count plus its unfolded deltas), never by a scan of the waiting recipients, and
// the oldest of each counted group is one seek of the partial index recipient_unclaimed (account,
// domain, state, received_at). The delivering ones are neither counted nor in that index, so that
// a claim only takes a recipient out of its group and a delivery touches neither (issue 14): they
// are the ones in flight, whose number the claims bound, and one grouped read of them (by state)
// gives their counts and oldest. The groups are few (accounts × domains × 4 states), so the store
// adds them up by state and by domain in JavaScript (toOverview).
import { shared, type SharedQuery } from './dialect.js';
import type { QueueOverview, QueueStateCount } from '../queue-overview-store.js';

const WAITING_STATES: readonly string[] = ['queued', 'deferred', 'delivering', 'held'];

/**
 * Whether a message search by `status` can be answered without the walk: a waiting state the
 * account has no recipient in matches no message, so the search returns at once instead of walking
 * every message of the account to find none (searchMessages on both stores: the counters for
 * queued, deferred and held, the recipients in flight for delivering).
 */
export const countedState = (status: string | undefined): status is string => status !== undefined && WAITING_STATES.includes(status);

/**
 * The counted states, as each store's recipient_unclaimed names them in its WHERE: a partial index
 * serves a query term that implies its WHERE, which SQLite decides by the term's form. SQLite's
 * index says it as two short lists, compared in place, where a list of three constants built a
 * temporary b-tree on every insert and state change (migration v22); PostgreSQL keeps the list.
 */
const COUNTED = {
  postgres: (column: string): string => `${column} IN ('queued', 'deferred', 'held')`,
  sqlite: (column: string): string => `(${column} IN ('queued', 'deferred') OR ${column} = 'held')`,
};

/** The waiting groups of `counts` (a table or subquery with account, domain, state, n) and the delivering ones, with their oldest receive time. */
export function groupsQuery(counts: string): SharedQuery {
  const text = (counted: (column: string) => string): string => `
  SELECT c.account, c.domain, c.state, c.n,
    (SELECT MIN(r.received_at) FROM recipient r
     WHERE r.account = c.account AND r.domain = c.domain AND r.state = c.state AND ${counted('r.state')}) AS oldest
  FROM ${counts} c WHERE c.n > 0 AND ${counted('c.state')} AND (CAST($1 AS text) IS NULL OR c.account = $1)
  UNION ALL
  SELECT account, domain, state, COUNT(*) AS n, MIN(received_at) AS oldest FROM recipient
  WHERE state = 'delivering' AND (CAST($1 AS text) IS NULL OR account = $1) GROUP BY account, domain, state`;
  return { text: shared(text(COUNTED.postgres)).text, sqlite: shared(text(COUNTED.sqlite)).sqlite };
}

export interface GroupRow { account: string; domain: string; state: string; n: number | string; oldest: number | string | null }

/** byState in state order; byDomain most waiting recipients first (then by name), at most `domains`. */
export function toOverview(rows: readonly GroupRow[], domains: number): QueueOverview {
  const states = new Map<string, QueueStateCount>();
  const byDomain = new Map<string, { domain: string; recipients: number; deferred: number; held: number; oldestReceivedAt: number }>();
  for (const r of rows) {
    const n = Number(r.n);
    // Counters and rows change in one transaction and are read in one snapshot, so a counted
    // group always has rows; were it not so, its count still shows (the contract test compares).
    const oldest = r.oldest === null ? Infinity : Number(r.oldest);
    const s = states.get(r.state) ?? { state: r.state as QueueStateCount['state'], recipients: 0, oldestReceivedAt: oldest };
    s.recipients += n;
    s.oldestReceivedAt = Math.min(s.oldestReceivedAt, oldest);
    states.set(r.state, s);
    const d = byDomain.get(r.domain) ?? { domain: r.domain, recipients: 0, deferred: 0, held: 0, oldestReceivedAt: oldest };
    d.recipients += n;
    if (r.state === 'deferred') d.deferred += n;
    if (r.state === 'held') d.held += n;
    d.oldestReceivedAt = Math.min(d.oldestReceivedAt, oldest);
    byDomain.set(r.domain, d);
  }
  return {
    byState: [...states.values()].sort((a, b) => (a.state < b.state ? -1 : a.state > b.state ? 1 : 0)),
    byDomain: [...byDomain.values()]
      .sort((a, b) => b.recipients - a.recipients || (a.domain < b.domain ? -1 : a.domain > b.domain ? 1 : 0)).slice(0, domains),
  };
}
