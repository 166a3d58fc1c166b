// The executor's read-only operations, run on a separate connection that sees committed data only,
// so they never wait for (nor observe) a group commit in progress.
import type { NodeHeartbeat } from '../store.js';
import { FINAL_STATES, type MessageView, type QueueCounts, type RecipientState, type RecipientView, type UserRecord } from '../store.js';
import type { BodySource } from './protocol.js';
import { sql, toMessageView, toRecipientView, toUser, type Db, type MessageRow, type UserRow } from './rows.js';

const RECIPIENT_VIEW = `SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id`;
const DEFAULT_LIST_LIMIT = 1000;
const STREAMS = ['transactional', 'broadcast'] as const;

/** The earliest next_attempt_at of a waiting recipient: one probe of recipient_due_claim per stream. */
export function nextDueAt(db: Db): number | null {
  const first = sql(db, `SELECT next_attempt_at AS t FROM recipient INDEXED BY recipient_due_claim
                         WHERE stream = ? AND state IN ('queued', 'deferred') ORDER BY next_attempt_at LIMIT 1`);
  const times = STREAMS.map((s) => (first.get(s) as { t: number | null } | undefined)?.t ?? null).filter((t): t is number => t !== null);
  return times.length ? Math.min(...times) : null;
}

export function listRecipients(db: Db, opts: { state?: RecipientState; includeFinal?: boolean; limit?: number } = {}): RecipientView[] {
  const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
  let rows: unknown[];
  if (opts.state && isWaitingBacklog(db, opts.state, limit)) {
    // Many recipients in a waiting state (a deferred backlog of 1,000,000): walk the open messages
    // in received order until `limit` match, rather than read and sort every one of them.
    rows = sql(db, `SELECT r.*, m.mail_from, m.received_at, m.size
                    FROM queued_message m INDEXED BY queued_message_open JOIN recipient r ON r.message_id = m.id
                    WHERE m.completed_at IS NULL AND r.state = ? ORDER BY m.received_at, m.id, r.id LIMIT ?`).all(opts.state, limit);
  } else if (opts.state) {
    rows = sql(db, `${RECIPIENT_VIEW} WHERE r.state = ? ORDER BY m.received_at, m.id, r.id LIMIT ?`).all(opts.state, limit);
  } else if (opts.includeFinal) {
    rows = sql(db, `${RECIPIENT_VIEW} ORDER BY m.received_at, m.id, r.id LIMIT ?`).all(limit);
  } else {
    // Non-final recipients only belong to messages not yet completed: walk those in received order.
    rows = sql(db, `SELECT r.*, m.mail_from, m.received_at, m.size
                    FROM queued_message m INDEXED BY queued_message_open JOIN recipient r ON r.message_id = m.id
                    WHERE m.completed_at IS NULL AND r.state NOT IN (${FINAL_STATES.map((s) => `'${s}'`).join(', ')})
                    ORDER BY m.received_at, m.id, r.id LIMIT ?`).all(limit);
  }
  return (rows as Parameters<typeof toRecipientView>[0][]).map(toRecipientView);
}

/**
 * Whether a listing by a waiting state should walk the open messages in order: when more than
 * BACKLOG_FACTOR × limit recipients are in it (counted on recipient_state, at most that many), the
 * walk meets `limit` of them soon; fewer (a few held ones) are cheaper to read and sort.
 */
function isWaitingBacklog(db: Db, state: RecipientState, limit: number): boolean {
  if (FINAL_STATES.includes(state)) return false; // final recipients belong to completed messages
  const cap = limit * BACKLOG_FACTOR;
  return (sql(db, 'SELECT count(*) AS n FROM (SELECT 1 FROM recipient WHERE state = ? LIMIT ?)').get(state, cap) as { n: number }).n >= cap;
}
const BACKLOG_FACTOR = 20;

export function getMessage(db: Db, id: string): MessageView | null {
  const m = sql(db, 'SELECT * FROM queued_message WHERE id = ?').get(id) as MessageRow | undefined;
  if (!m) return null;
  const recipients = (sql(db, `${RECIPIENT_VIEW} WHERE r.message_id = ? ORDER BY r.id`).all(id) as Parameters<typeof toRecipientView>[0][])
    .map(toRecipientView);
  const attempts = sql(db, `SELECT a.rcpt_id, r.address, a.at, a.status, a.host, a.response, a.tls, a.source, a.remote_ip, a.duration_ms
                            FROM attempt a JOIN recipient r ON r.id = a.rcpt_id WHERE a.message_id = ? ORDER BY a.at, a.id`).all(id);
  return toMessageView(m, recipients, attempts as Parameters<typeof toMessageView>[2]);
}

/**
 * The waiting states (queued, deferred, held) from queue_count, which the recipient triggers keep
 * exact (one row per account, domain and state); the others by counting their recipients in
 * recipient_state: the ones in flight and the finished ones kept by storage.retainFinished. A
 * count of every recipient grouped by state read the whole backlog: 190–210 ms at 1,000,000
 * deferred (bench/README.md, "SQLite with a backlog").
 */
export function counts(db: Db): QueueCounts {
  const c: QueueCounts = { queued: 0, deferred: 0, delivering: 0, held: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0 };
  const rows = [
    ...sql(db, 'SELECT state, sum(n) AS n FROM queue_count GROUP BY state').all(),
    ...sql(db, `SELECT state, count(*) AS n FROM recipient INDEXED BY recipient_state
                WHERE state IN ('delivering', 'delivered', 'bounced', 'expired', 'suppressed') GROUP BY state`).all(),
  ] as { state: RecipientState; n: number }[];
  for (const row of rows) c[row.state] = row.n;
  return c;
}

export function getUser(db: Db, name: string): UserRecord | null {
  const row = sql(db, 'SELECT * FROM smtp_user WHERE name = ?').get(name) as UserRow | undefined;
  if (!row) return null;
  const domains = sql(db, 'SELECT domain FROM smtp_user_domain WHERE user_name = ? ORDER BY domain').all(name) as { domain: string }[];
  return toUser(row, domains.map((d) => d.domain));
}

/** All users, or one account's. */
export function listUsers(db: Db, account: string | null = null): UserRecord[] {
  const byUser = new Map<string, string[]>();
  for (const d of sql(db, 'SELECT user_name, domain FROM smtp_user_domain ORDER BY user_name, domain').all() as { user_name: string; domain: string }[]) {
    byUser.set(d.user_name, [...(byUser.get(d.user_name) ?? []), d.domain]);
  }
  return (sql(db, 'SELECT * FROM smtp_user WHERE (@account IS NULL OR account = @account) ORDER BY name').all({ account }) as UserRow[])
    .map((u) => toUser(u, byUser.get(u.name) ?? []));
}

/** readBody's one query: the header prefix, and the inline body (or 'inline' without `blob`) or 'file'; nothing once finished. */
export function bodySource(db: Db, id: string, blob = true): BodySource {
  if (!blob) { // the caller holds the body (KeptBodies): only the prefix and whether it is still due
    const r = sql(db, `SELECT m.header_prefix, m.completed_at, b.message_id IS NOT NULL AS inline FROM queued_message m
                       LEFT JOIN message_body b ON b.message_id = m.id WHERE m.id = ?`).get(id) as
      { header_prefix: string | null; completed_at: number | null; inline: number } | undefined;
    if (!r || r.completed_at !== null) return { prefix: null, body: null };
    return { prefix: r.header_prefix, body: r.inline ? 'inline' : 'file' };
  }
  const row = sql(db, `SELECT m.header_prefix, m.completed_at, b.data FROM queued_message m
                       LEFT JOIN message_body b ON b.message_id = m.id WHERE m.id = ?`).get(id) as
    { header_prefix: string | null; completed_at: number | null; data: Buffer | null } | undefined;
  if (!row || row.completed_at !== null) return { prefix: null, body: null };
  return { prefix: row.header_prefix, body: row.data ?? 'file' };
}

export function listNodes(db: Db, since: number): NodeHeartbeat[] {
  return (sql(db, 'SELECT * FROM relay_node WHERE last_seen_at >= ? ORDER BY last_seen_at DESC, node_id').all(since) as
    { node_id: string; started_at: number; last_seen_at: number; in_flight: number }[])
    .map((r) => ({ nodeId: r.node_id, startedAt: r.started_at, lastSeenAt: r.last_seen_at, inFlight: r.in_flight }));
}
