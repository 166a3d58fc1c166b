// Shared by the executor's operations: the prepared-statement cache, the per-operation side
// effects applied around the commit, and the mapping from SQLite rows to QueueStore values.
import type Database from 'better-sqlite3';
import { sqliteArgs, type SharedQuery } from '../sql/dialect.js';
import type { MessageMeta, RateLimits } from '../platform-store.js';
import type { AttemptRecord, AttemptTls, MessageView, NewMessage, RecipientState, RecipientView, UserRecord } from '../store.js';
import { optionalAttemptFields } from '../row-mapping.js';
export { domainOf, normalizeDomains } from '../row-mapping.js';

export type Db = Database.Database;

/** What an operation needs done around its commit: fsync the spool dir before, unlink body files after. */
export interface Effects { syncSpool: boolean; unlink: string[] }

const caches = new WeakMap<Db, Map<string, Database.Statement>>();

/** Prepares once per connection and reuses: `sql(db, 'SELECT ...').get(...)`. */
export function sql(db: Db, text: string): Database.Statement {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let stmt = cache.get(text);
  if (!stmt) cache.set(text, (stmt = db.prepare(text)));
  return stmt;
}

/** Rows one multi-row statement takes at most (MultiRow): larger lists go in chunks of this many. */
export const ROWS_PER_STATEMENT = 16;

/**
 * A statement for k rows, k ≤ ROWS_PER_STATEMENT: `head`, k copies of `row` joined by commas, `tail`
 * (multi-row VALUES, or an IN list). Each count's text is built and prepared once per connection; one
 * statement per job or message instead of one per recipient (bench/README.md, fifteenth session: a
 * statement's bind, step and reset cost more than the rows a small one writes).
 */
export class MultiRow {
  readonly #texts: string[] = [];
  constructor(private readonly head: string, private readonly row: string, private readonly tail = '') {}
  text(k: number): string {
    if (!(k >= 1 && k <= ROWS_PER_STATEMENT)) throw new RangeError(`MultiRow: ${k} rows`);
    return (this.#texts[k] ??= this.head + Array.from({ length: k }, () => this.row).join(', ') + this.tail);
  }
  stmt(db: Db, k: number): Database.Statement { return sql(db, this.#texts[k] ?? this.text(k)); }
}

/** `items` in runs of at most ROWS_PER_STATEMENT, in order (an array, not a generator: cheaper to run unoptimized). */
export function chunksOf<T>(items: readonly T[]): (readonly T[])[] {
  if (items.length <= ROWS_PER_STATEMENT) return items.length > 0 ? [items] : [];
  const parts: (readonly T[])[] = [];
  for (let i = 0; i < items.length; i += ROWS_PER_STATEMENT) parts.push(items.slice(i, i + ROWS_PER_STATEMENT));
  return parts;
}

/** A statement written once for both stores (../sql/), run with SQLite's named parameters. */
export const run = (db: Db, q: SharedQuery, values: readonly unknown[]) => sql(db, q.sqlite).run(sqliteArgs(values));
export const all = <R>(db: Db, q: SharedQuery, values: readonly unknown[]) => sql(db, q.sqlite).all(sqliteArgs(values)) as R[];


export interface MessageRow {
  id: string; mail_from: string; return_path: string | null; size: number; received_at: number; origin: string;
  is_bounce: number; route: 'relay' | 'local'; delay_notified: number; completed_at: number | null;
  account: string; tags: string | null; metadata: string | null; stream: MessageMeta['stream'];
  /** JSON MessageDsn (message/dsn-params.ts); null: none given. */
  dsn: string | null;
  require_tls: number; smtputf8: number; tls_optional: number;
  subject: string | null;
}
export interface RecipientRow {
  id: number; message_id: string; address: string; domain: string; state: RecipientState; attempts: number;
  next_attempt_at: number | null; lease_owner: string | null; lease_until: number | null;
  last_response: string | null; updated_at: number;
}
interface AttemptRow {
  rcpt_id: number; address: string; at: number; status: AttemptRecord['status']; host: string | null; response: string;
  tls: string | null; // JSON AttemptTls
  source: string | null; remote_ip: string | null; duration_ms: number | null;
}
export interface UserRow {
  name: string; password_hash: string; created_at: number; any_domain: number; account: string; limits: string; default_stream: UserRecord['defaultStream'];
}

export const toRecipientView = (r: RecipientRow & Pick<MessageRow, 'mail_from' | 'received_at' | 'size'>): RecipientView => ({
  messageId: r.message_id,
  rcptId: r.id,
  mailFrom: r.mail_from,
  address: r.address,
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastResponse: r.last_response,
  receivedAt: r.received_at,
  size: r.size,
});

export const toMessageView = (m: MessageRow, recipients: RecipientView[], attempts: AttemptRow[]): MessageView => ({
  id: m.id,
  mailFrom: m.mail_from,
  size: m.size,
  receivedAt: m.received_at,
  origin: JSON.parse(m.origin) as NewMessage['origin'],
  isBounce: m.is_bounce === 1,
  route: m.route,
  meta: toMeta(m),
  subject: m.subject ?? null,
  recipients,
  attempts: attempts.map((a) => ({
    at: a.at, rcptId: a.rcpt_id, address: a.address, status: a.status, host: a.host, response: a.response,
    ...(a.tls ? { tls: JSON.parse(a.tls) as AttemptTls } : {}), ...(a.source ? { source: a.source } : {}),
    ...optionalAttemptFields(a),
  })),
});

export const toUser = (u: UserRow, allowedDomains: string[]): UserRecord => ({
  name: u.name, passwordHash: u.password_hash, createdAt: u.created_at, allowedDomains, anyDomain: u.any_domain === 1,
  account: u.account, limits: JSON.parse(u.limits) as RateLimits, defaultStream: u.default_stream,
});

/** The API fields of a message row (tags and metadata are JSON text, NULL when empty). */
export const toMeta = (m: Pick<MessageRow, 'account' | 'tags' | 'metadata' | 'stream'>): MessageMeta => ({
  account: m.account, tags: m.tags ? JSON.parse(m.tags) as string[] : [],
  metadata: m.metadata ? JSON.parse(m.metadata) as Record<string, string> : {}, stream: m.stream,
});

/** Lower-cased, deduplicated and sorted: how domain lists are stored. */

/** An expected failure an operation reports by kind (the main thread maps kinds to typed errors). */
export class OpError extends Error {
  constructor(readonly kind: 'write' | 'user-exists' | 'domain-exists' | 'selector-exists' | 'not-found' | 'account-exists' | 'account-default',
    message: string) { super(message); }
}
