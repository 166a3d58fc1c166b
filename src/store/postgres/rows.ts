// Shared by the PostgreSQL operations: the row shapes, their mapping to QueueStore values, the
// expected-failure type, and the pg type parsers (int8 as a JS number: every bigint column holds
// ms timestamps, sizes or serial ids, all far below 2^53).
import type pg from 'pg';
import type { MessageMeta, RateLimits } from '../platform-store.js';
import type { MessageDsn } from '../../message/dsn-params.js';
import type { AttemptRecord, AttemptTls, MessageView, NewMessage, RecipientState, RecipientView, UserRecord } from '../store.js';
import { optionalAttemptFields } from '../row-mapping.js';
export { domainOf, normalizeDomains } from '../row-mapping.js';

export type Conn = pg.PoolClient;

/**
 * A per-message statement, prepared once per connection under its name: later runs skip parsing
 * and, once PostgreSQL settles on a generic plan, planning (the larger part of the database's
 * CPU per message; bench/README.md). Its result columns must be listed, never `*`: a prepared
 * statement whose result shape changes (a migration adding a column) fails instead of re-planning.
 * Prefer scalar parameters to arrays (`= ANY($1)`, `unnest($1)`) where the count is small and known:
 * PostgreSQL estimates a constant array's length but not a parameter's, so a custom plan can look
 * cheaper than the generic one at every call and the statement is then planned every time anyway
 * (pg_stat_statements: plans = calls). And no parameter where a value picks the index (the claim's
 * stream): the generic plan cannot use its statistics.
 */
export interface Prepared { readonly name: string; readonly text: string }
export const prepared = (name: string, text: string): Prepared => ({ name: `pl_${name}`, text });
export function runPrepared<R extends pg.QueryResultRow = pg.QueryResultRow>(c: Conn, s: Prepared, values: unknown[]): Promise<pg.QueryResult<R>> {
  return c.query<R>({ name: s.name, text: s.text, values });
}

const INT8_OID = 20;
/** Per-pool type parsers (never the process-global pg.types), over the defaults of the loaded `pg`. */
export const pgTypesOver = (types: typeof pg.types): pg.CustomTypesConfig => ({
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
});


/** Lower-cased, deduplicated and sorted: how domain lists are stored. */

export interface MessageRow {
  id: string; mail_from: string; return_path: string | null; size: number; received_at: number; origin: NewMessage['origin'];
  is_bounce: boolean; route: 'relay' | 'local'; delay_notified: boolean; header_prefix: string | null; completed_at: number | null;
  account: string; tags: string[]; metadata: Record<string, string>; stream: MessageMeta['stream'];
  dsn: MessageDsn | null;
  require_tls: boolean; smtputf8: boolean; tls_optional: boolean;
  subject: string | null;
}
export interface RecipientRow {
  id: number; message_id: string; address: string; domain: string; state: RecipientState; attempts: number;
  next_attempt_at: number | null; lease_owner: string | null; lease_until: number | null; last_response: string | null;
}
export type RecipientViewRow = RecipientRow & Pick<MessageRow, 'mail_from' | 'received_at' | 'size'>;
export interface AttemptRow {
  rcpt_id: number; address: string; at: number; status: AttemptRecord['status']; host: string | null; response: string; tls: AttemptTls | null; source: string | null;
  remote_ip: string | null; duration_ms: number | null;
}
export interface UserRow {
  name: string; password_hash: string; created_at: number; any_domain: boolean; account: string; limits: RateLimits; default_stream: UserRecord['defaultStream'];
}

export const toRecipientView = (r: RecipientViewRow): RecipientView => ({
  messageId: r.message_id, rcptId: r.id, mailFrom: r.mail_from, address: r.address, state: r.state, attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at, lastResponse: r.last_response, receivedAt: r.received_at, size: r.size,
});

export const toMessageView = (m: MessageRow, recipients: RecipientView[], attempts: AttemptRow[]): MessageView => ({
  id: m.id, mailFrom: m.mail_from, size: m.size, receivedAt: m.received_at, origin: m.origin, isBounce: m.is_bounce, route: m.route,
  meta: toMeta(m), subject: m.subject ?? null, recipients,
  attempts: attempts.map((a) => ({
    at: a.at, rcptId: a.rcpt_id, address: a.address, status: a.status, host: a.host, response: a.response, ...(a.tls ? { tls: a.tls } : {}), ...(a.source ? { source: a.source } : {}),
    ...optionalAttemptFields(a),
  })),
});

export const toUser = (u: UserRow, allowedDomains: string[]): UserRecord => ({
  name: u.name, passwordHash: u.password_hash, createdAt: u.created_at, allowedDomains, anyDomain: u.any_domain,
  account: u.account, limits: u.limits, defaultStream: u.default_stream,
});

/** The API fields of a message row (jsonb columns arrive parsed). */
export const toMeta = (m: Pick<MessageRow, 'account' | 'tags' | 'metadata' | 'stream'>): MessageMeta =>
  ({ account: m.account, tags: m.tags, metadata: m.metadata, stream: m.stream });

/** An expected failure an operation reports by kind (the store maps kinds to typed errors). */
export class OpError extends Error {
  constructor(readonly kind: 'write' | 'user-exists' | 'domain-exists' | 'selector-exists' | 'not-found' | 'account-exists' | 'account-default'
    | 'retry', message: string) { super(message); }
}
