// The suppression list's statements shared by both stores (see dialect.ts), and the row mapping.
// Lookups of many addresses at once take an array, which the dialects spell differently: those
// stay in sqlite/suppression-ops.ts and postgres/suppression-ops.ts.
import { type Suppression, type SuppressionQuery, suppressionKey, suppressionLimit } from '../suppression-store.js';
import { shared } from './dialect.js';

const COLUMNS = 'account, address, scope, reason, source, message_id, detail, created_at';
export const SUPPRESSION_COLUMNS = COLUMNS;

export const INSERT_KEEP = shared(`INSERT INTO suppression (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (account, address, scope) DO NOTHING`);

export const INSERT_REPLACE = shared(`INSERT INTO suppression (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (account, address, scope) DO UPDATE SET reason = excluded.reason, source = excluded.source,
    message_id = excluded.message_id, detail = excluded.detail, created_at = excluded.created_at`);

export const DELETE_ENTRIES = shared(`DELETE FROM suppression
  WHERE account = $1 AND address = $2 AND (CAST($3 AS text) IS NULL OR scope = $3)`);

const listWhere = (address: string) => `SELECT ${COLUMNS} FROM suppression
  WHERE account = $1
    AND (CAST($2 AS text) IS NULL OR address > $2 OR (address = $2 AND scope > $3))
    AND (CAST($4 AS text) IS NULL OR address LIKE $4 ESCAPE '\\')
    AND (CAST($5 AS text) IS NULL OR reason = $5)
    AND (CAST($6 AS text) IS NULL OR scope = $6)
    AND ${address}
  ORDER BY address, scope LIMIT $7`;
export const LIST = shared(listWhere('(CAST($8 AS text) IS NULL OR address = $8)'));
/** LIST of one address ($8 given): a key lookup, where LIST's optional filter walked the whole account (98 ms at 100,000). */
export const LIST_ONE = shared(listWhere('address = $8'));

export const ACCOUNT_EXISTS = shared('SELECT 1 AS one FROM account WHERE name = $1');

/** Soft bounces: one more for the address, restarting the count when the last window has passed; returns the count. */
export const COUNT_SOFT_BOUNCE = shared(`INSERT INTO soft_bounce (account, address, count, first_at, last_at) VALUES ($1, $2, 1, $3, $3)
  ON CONFLICT (account, address) DO UPDATE SET
    count = CASE WHEN soft_bounce.first_at < $4 THEN 1 ELSE soft_bounce.count + 1 END,
    first_at = CASE WHEN soft_bounce.first_at < $4 THEN excluded.first_at ELSE soft_bounce.first_at END,
    last_at = excluded.last_at
  RETURNING count`);

export interface SuppressionRow {
  account: string; address: string; scope: string; reason: string; source: string | null; message_id: string | null; detail: string | null; created_at: number;
}

export const toSuppression = (r: SuppressionRow): Suppression => ({
  account: r.account, address: r.address, scope: r.scope as Suppression['scope'], reason: r.reason as Suppression['reason'],
  source: r.source, messageId: r.message_id, detail: r.detail, createdAt: Number(r.created_at),
});

/** The values of INSERT_KEEP / INSERT_REPLACE for one entry (address normalized). */
export const insertValues = (e: Suppression): unknown[] =>
  [e.account, suppressionKey(e.address), e.scope, e.reason, e.source, e.messageId, e.detail, e.createdAt];

/** The values of LIST. */
export function listValues(q: SuppressionQuery): unknown[] {
  const search = q.search ? `%${suppressionKey(q.search).replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return [q.account, q.after ? suppressionKey(q.after.address) : null, q.after?.scope ?? null, search, q.reason ?? null, q.scope ?? null,
    suppressionLimit(q.limit), q.address ? suppressionKey(q.address) : null];
}
