// The read-only operations: admin views, counts, users and the body source of readBody. Each is
// one or two statements on a pooled connection (no transaction needed). Text is ordered with the
// "C" collation so order is bytewise, as in SQLite, whatever the database's locale.
import type { NodeHeartbeat } from '../store.js';
import { FINAL_STATES, type MessageView, type QueueCounts, type RecipientState, type RecipientView, type UserRecord } from '../store.js';
import {
  prepared, runPrepared, toMessageView, toRecipientView, toUser, type AttemptRow, type Conn, type MessageRow, type RecipientViewRow, type UserRow,
} from './rows.js';

const RECIPIENT_VIEW = 'SELECT r.*, m.mail_from, m.received_at, m.size FROM recipient r JOIN queued_message m ON m.id = r.message_id';
const IN_ORDER = 'ORDER BY m.received_at, m.id COLLATE "C", r.id';
const DEFAULT_LIST_LIMIT = 1000;
const FINAL = FINAL_STATES.map((s) => `'${s}'`).join(', ');

/** Every scheduler round of every node asks it (named: rows.ts). */
const NEXT_DUE = prepared('next_due', `SELECT next_attempt_at AS t FROM recipient
                                       WHERE state IN ('queued', 'deferred') ORDER BY next_attempt_at LIMIT 1`);
export async function nextDueAt(c: Conn): Promise<number | null> {
  const { rows } = await runPrepared<{ t: number | null }>(c, NEXT_DUE, []);
  return rows[0]?.t ?? null;
}

export async function listRecipients(c: Conn, opts: { state?: RecipientState; includeFinal?: boolean; limit?: number } = {}): Promise<RecipientView[]> {
  const limit = opts.limit ?? DEFAULT_LIST_LIMIT;
  let rows: RecipientViewRow[];
  if (opts.state) {
    // A waiting recipient belongs to an open message: saying so lets the planner walk
    // queued_message_open in received order (a deferred backlog) instead of sorting every match.
    const open = FINAL_STATES.includes(opts.state) ? '' : 'm.completed_at IS NULL AND';
    rows = (await c.query<RecipientViewRow>(`${RECIPIENT_VIEW} WHERE ${open} r.state = $1 ${IN_ORDER} LIMIT $2`, [opts.state, limit])).rows;
  } else if (opts.includeFinal) {
    rows = (await c.query<RecipientViewRow>(`${RECIPIENT_VIEW} ${IN_ORDER} LIMIT $1`, [limit])).rows;
  } else {
    rows = (await c.query<RecipientViewRow>(`${RECIPIENT_VIEW} WHERE m.completed_at IS NULL AND r.state NOT IN (${FINAL})
                                             ${IN_ORDER} LIMIT $1`, [limit])).rows;
  }
  return rows.map(toRecipientView);
}

export async function getMessage(c: Conn, id: string): Promise<MessageView | null> {
  const m = (await c.query<MessageRow>('SELECT * FROM queued_message WHERE id = $1', [id])).rows[0];
  if (!m) return null;
  const recipients = (await c.query<RecipientViewRow>(`${RECIPIENT_VIEW} WHERE r.message_id = $1 ORDER BY r.id`, [id])).rows.map(toRecipientView);
  const attempts = await c.query<AttemptRow>(`SELECT a.rcpt_id, r.address, a.at, a.status, a.host, a.response, a.tls, a.source, a.remote_ip, a.duration_ms
                                              FROM attempt a JOIN recipient r ON r.id = a.rcpt_id
                                              WHERE a.message_id = $1 ORDER BY a.at, a.id`, [id]);
  return toMessageView(m, recipients, attempts.rows);
}

export async function counts(c: Conn): Promise<QueueCounts> {
  const out: QueueCounts = { queued: 0, deferred: 0, delivering: 0, held: 0, delivered: 0, bounced: 0, expired: 0, suppressed: 0 };
  const { rows } = await c.query<{ state: RecipientState; n: number }>('SELECT state, count(*)::int AS n FROM recipient GROUP BY state');
  for (const row of rows) out[row.state] = row.n;
  return out;
}

export async function getUser(c: Conn, name: string): Promise<UserRecord | null> {
  const row = (await c.query<UserRow>('SELECT * FROM smtp_user WHERE name = $1', [name])).rows[0];
  if (!row) return null;
  const domains = await c.query<{ domain: string }>('SELECT domain FROM smtp_user_domain WHERE user_name = $1 ORDER BY domain COLLATE "C"', [name]);
  return toUser(row, domains.rows.map((d) => d.domain));
}

/** All users, or one account's. */
export async function listUsers(c: Conn, account: string | null = null): Promise<UserRecord[]> {
  const byUser = new Map<string, string[]>();
  const grants = await c.query<{ user_name: string; domain: string }>(
    'SELECT user_name, domain FROM smtp_user_domain ORDER BY user_name COLLATE "C", domain COLLATE "C"');
  for (const d of grants.rows) byUser.set(d.user_name, [...(byUser.get(d.user_name) ?? []), d.domain]);
  const users = await c.query<UserRow>('SELECT * FROM smtp_user WHERE ($1::text IS NULL OR account = $1) ORDER BY name COLLATE "C"', [account]);
  return users.rows.map((u) => toUser(u, byUser.get(u.name) ?? []));
}

/** readBody's one query: the header prefix and the body; null once the message finished (or is unknown). */
const BODY_SOURCE = prepared('body_source', `SELECT m.header_prefix, m.completed_at, b.data FROM queued_message m
                                             LEFT JOIN message_body b ON b.message_id = m.id WHERE m.id = $1`);

/** A message's header prefix and body (readBody, readMessage). */
export interface BodySource { prefix: string | null; data: Buffer }

export async function bodySource(c: Conn, id: string): Promise<BodySource | null> {
  const { rows } = await runPrepared<{ header_prefix: string | null; completed_at: number | null; data: Buffer | null }>(c, BODY_SOURCE, [id]);
  const row = rows[0];
  if (!row || row.completed_at !== null || row.data === null) return null;
  return { prefix: row.header_prefix, data: row.data };
}

/** BODY_SOURCE for several messages at once (the store's readMessage batches: postgres-store.ts BODY_READ_BATCH_MAX). */
const BODY_SOURCES = prepared('body_sources', `SELECT m.id, m.header_prefix, m.completed_at, b.data FROM queued_message m
                                               LEFT JOIN message_body b ON b.message_id = m.id WHERE m.id = ANY($1::text[])`);

/** bodySource of each of `ids` in one statement, by id; a finished or unknown message is left out (as bodySource's null). */
export async function bodySources(c: Conn, ids: readonly string[]): Promise<Map<string, BodySource>> {
  const { rows } = await runPrepared<{ id: string; header_prefix: string | null; completed_at: number | null; data: Buffer | null }>(c, BODY_SOURCES, [ids]);
  const found = new Map<string, BodySource>();
  for (const row of rows) if (row.completed_at === null && row.data !== null) found.set(row.id, { prefix: row.header_prefix, data: row.data });
  return found;
}

export async function listNodes(c: Conn, since: number): Promise<NodeHeartbeat[]> {
  const r = await c.query<{ node_id: string; started_at: number; last_seen_at: number; in_flight: number }>(
    'SELECT * FROM relay_node WHERE last_seen_at >= $1 ORDER BY last_seen_at DESC, node_id COLLATE "C"', [since]);
  return r.rows.map((x) => ({ nodeId: x.node_id, startedAt: Number(x.started_at), lastSeenAt: Number(x.last_seen_at), inFlight: Number(x.in_flight) }));
}
