// The executor's writing operations other than claimDue: each runs inside a savepoint of the
// current group-commit transaction and records in `fx` what must happen around the commit.
// Late results: recordResults only updates recipients still 'delivering' (and, when the caller
// names its lease owner, still leased to it), so a recipient deleted, released or reclaimed
// meanwhile is never resurrected or overwritten; the attempt is still kept in the history.
import type { NodeHeartbeat } from '../store.js';
import type { GeneratedMessage, NewMessage, NewUser } from '../store.js';
import { durationOf, generatedMessage, hasEvents, messageData, metaOf, outcomeEvent } from '../event-mapping.js';
import { strongest, suppressedAmong, suppressedResponse, type Suppression } from '../suppression-store.js';
import type { MessageMeta } from '../platform-store.js';
import { NO_TRANSPORT_NEEDS } from '../../message/transport-needs.js';
import { requireAccount } from './account-ops.js';
import { insertUserDomains } from './domain-ops.js';
import { newEvent, writeAccepted, writeEvents, type NewEvent } from './event-ops.js';
import { findIn } from './suppression-ops.js';
import { nextOf, type OutcomeRun } from './outcome-runs.js';
import { chunksOf, domainOf, MultiRow, OpError, sql, toMeta, type Db, type Effects, type MessageRow } from './rows.js';

/** Not yet final; as two short lists, which SQLite compares in place (four constants would build a temporary b-tree each time). */
const NOT_FINAL = `NOT (state IN ('delivered', 'bounced') OR state IN ('expired', 'suppressed'))`;

const INSERT_RECIPIENTS = new MultiRow(`INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, stream, account, received_at)
  VALUES `, `(?, ?, ?, 'queued', ?, ?, ?, ?, ?)`);

/** `body`: the inline body (stored in this transaction); null when it is a spool file. */
export function put(db: Db, fx: Effects, m: NewMessage, now: number, body: Uint8Array | null = null): void {
  if (m.recipients.length === 0) throw new OpError('write', 'message has no recipients');
  const meta = metaOf(m);
  const t = m.transport ?? NO_TRANSPORT_NEEDS;
  sql(db, `INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route, header_prefix, return_path,
                                       account, tags, metadata, stream, dsn, require_tls, smtputf8, tls_optional, subject)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(m.id, m.mailFrom, m.size, m.receivedAt, JSON.stringify(m.origin), m.isBounce ? 1 : 0, m.route, m.headerPrefix || null, m.returnPath ?? null,
      meta.account, meta.tags.length ? JSON.stringify(meta.tags) : null,
      Object.keys(meta.metadata).length ? JSON.stringify(meta.metadata) : null, meta.stream, m.dsn ? JSON.stringify(m.dsn) : null,
      t.requireTls ? 1 : 0, t.smtpUtf8 ? 1 : 0, t.tlsOptional ? 1 : 0, m.subject ?? null);
  const dueAt = m.notBefore ?? m.receivedAt;
  for (const part of chunksOf(m.recipients)) { // one statement for up to 16 recipients; ids in order, the triggers per row
    const args: unknown[] = [];
    for (const rcpt of part) args.push(m.id, rcpt, domainOf(rcpt), dueAt, now, meta.stream, meta.account, m.receivedAt);
    INSERT_RECIPIENTS.stmt(db, part.length).run(args);
  }
  if (hasEvents(m)) writeAccepted(db, m.id, m.recipients, meta, now);
  if (body) sql(db, 'INSERT INTO message_body (message_id, data) VALUES (?, ?)').run(m.id, body);
  else fx.syncSpool = true; // the body file's directory entry must be durable before this commit
  if (m.suppressed?.length) suppressAtAcceptance(db, fx, m, meta, now);
}

/**
 * put, the recipients on the account's suppression list (the message's stream) looked up in the
 * same savepoint and stored 'suppressed'; returns their entries by suppressionKey.
 */
export function putCheckingSuppressions(db: Db, fx: Effects, m: NewMessage, now: number, body: Uint8Array | null = null): Map<string, Suppression> {
  if (m.suppressed) throw new OpError('write', 'putCheckingSuppressions: suppressed is looked up here, not given');
  const meta = metaOf(m);
  const found = strongest(findIn(db, meta.account, meta.stream, m.recipients));
  put(db, fx, found.size > 0 ? { ...m, suppressed: suppressedAmong(m.recipients, found) } : m, now, body);
  return found;
}

/** Several messages in the caller's savepoint: a failure of any one rolls them all back. */
export function putMany(db: Db, fx: Effects, messages: NewMessage[], now: number, bodies: (Uint8Array | null)[] = []): void {
  if (messages.length === 0) throw new OpError('write', 'no messages');
  messages.forEach((m, i) => put(db, fx, m, now, bodies[i] ?? null));
}

/** The message's own recipients, found by recipient_message: `+state` keeps the planner off recipient_state,
 *  which (without ANALYZE statistics) it picked, reading every queued recipient of the backlog per address. */
export const SUPPRESS_AT_ACCEPTANCE = `UPDATE recipient SET state = 'suppressed', next_attempt_at = NULL, last_response = ?, updated_at = ?
  WHERE message_id = ? AND address = ? AND +state = 'queued' RETURNING id, address`;

/** Recipients suppressed at acceptance: final at once, with their events; the message completes if none is left. */
function suppressAtAcceptance(db: Db, fx: Effects, m: NewMessage, meta: MessageMeta, now: number): void {
  const update = sql(db, SUPPRESS_AT_ACCEPTANCE);
  const events: NewEvent[] = [];
  for (const s of m.suppressed!) {
    const response = suppressedResponse(s.suppression);
    for (const row of update.all(response, now, m.id, s.address) as { id: number; address: string }[]) {
      const o = { rcptId: row.id, status: 'suppressed' as const, response, suppression: s.suppression };
      if (hasEvents(m)) { const ev = outcomeEvent(o, 0, messageData(meta)); events.push(newEvent(now, meta.account, ev.type, m.id, row.address, ev.data)); }
    }
  }
  writeEvents(db, meta.account, events);
  completeIfFinal(db, fx, m.id, now);
}

/**
 * recordResults' statements for the k recipients of one run (same outcome, ids ascending): the state
 * update and the attempt rows, one statement each per run instead of one per recipient. Each
 * recipient is sought by id (`+message_id`, `+state`: with a list of ids SQLite otherwise reads
 * every recipient of the message by recipient_message, or seeks each in recipient_state and then
 * the table; query-plans.test.ts).
 */
export const SET_RESULTS = new MultiRow(`UPDATE recipient SET state = ?, attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL,
    lease_until = NULL, last_response = ?, updated_at = ?
  WHERE +message_id = ? AND +state = 'delivering' AND (? IS NULL OR lease_owner = ?) AND id IN (`, '?', ') RETURNING id, address, attempts');
export const INSERT_ATTEMPTS = new MultiRow(`INSERT INTO attempt (message_id, rcpt_id, at, status, host, response, tls, source, remote_ip, duration_ms)
  SELECT message_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM recipient WHERE +message_id = ? AND id IN (`, '?', ') ORDER BY id');

/** `runs`: the outcomes as outcome-runs.ts packs them (SqliteQueueStore.recordResults). */
export function recordResults(
  db: Db, fx: Effects, messageId: string, runs: OutcomeRun[], generated: GeneratedMessage[] = [],
  opts: { delayNotified?: boolean; owner?: string; durationMs?: number } = {}, now: number, bodies: (Uint8Array | null)[] = [],
): void {
  const msg = sql(db, 'SELECT account, tags, metadata, stream, route, is_bounce, mail_from FROM queued_message WHERE id = ?').get(messageId) as
    Pick<MessageRow, 'account' | 'tags' | 'metadata' | 'stream' | 'route' | 'is_bounce' | 'mail_from'> | undefined;
  if (!msg) {
    // Deleted meanwhile: a no-op. Body files written for DSNs that will never be stored go too.
    const unknown = generated.map((g) => g.message.id)
      .filter((id, i) => !bodies[i] && !sql(db, 'SELECT 1 FROM queued_message WHERE id = ?').get(id));
    fx.unlink.push(...unknown);
    return;
  }
  const owner = opts.owner ?? null;
  let updated = 0;
  const meta = toMeta(msg);
  const events: NewEvent[] = [];
  const base = messageData(meta);
  const withEvents = hasEvents({ route: msg.route, isBounce: msg.is_bounce === 1 });
  for (const run of runs) {
    const o = run[0], ids = run[1];
    const rows = SET_RESULTS.stmt(db, ids.length).all(o.status, nextOf(o), o.response, now, messageId, owner, owner, ...ids) as
      { id: number; address: string; attempts: number }[];
    // The attempt is kept in the history whether or not the recipient was still ours (header).
    INSERT_ATTEMPTS.stmt(db, ids.length).run(now, o.status, o.host ?? null, o.response, o.tls ? JSON.stringify(o.tls) : null, o.source ?? null,
      o.remoteIp ?? null, durationOf(o, opts.durationMs), messageId, ...ids);
    if (rows.length === 0) continue;
    updated += rows.length;
    if (!withEvents) continue;
    const byId = ids.length === 1 ? null : new Map(rows.map((r) => [r.id, r]));
    let data: { type: string; data: Record<string, unknown> } | null = null;
    let dataAttempts = -1;
    for (const id of ids) { // in the outcomes' order, one data object per attempt count (serialized once: writeEvents)
      const row = byId ? byId.get(id) : rows[0];
      if (!row) continue;
      if (data === null || row.attempts !== dataAttempts) { data = outcomeEvent(o, row.attempts, base); dataAttempts = row.attempts; }
      events.push(newEvent(now, meta.account, data.type, messageId, row.address, data.data)); // one shape for every event (not a spread)
    }
  }
  if (updated === 0 && runs.length > 0) {
    // Our lease was lost (reclaimed, released or held meanwhile): the new owner reports; a DSN
    // from us would be a duplicate. Drop it (and its body file, if it has one).
    fx.unlink.push(...generated.filter((_, i) => !bodies[i]).map((g) => g.message.id));
    return;
  }
  writeEvents(db, meta.account, events, { messageId, mailFrom: msg.mail_from });
  if (opts.delayNotified) sql(db, 'UPDATE queued_message SET delay_notified = 1 WHERE id = ?').run(messageId);
  generated.forEach((g, i) => put(db, fx, generatedMessage(g.message, meta), now, bodies[i] ?? null));
  completeIfFinal(db, fx, messageId, now);
}


/** Stamps completed_at once every recipient is final; an inline body goes with it, a body file after the commit. */
function completeIfFinal(db: Db, fx: Effects, messageId: string, now: number): void {
  // One statement: the stamp only when no recipient is open (the first open one found ends the probe).
  const r = sql(db, `UPDATE queued_message SET completed_at = ? WHERE id = ? AND completed_at IS NULL
                       AND NOT EXISTS (SELECT 1 FROM recipient WHERE message_id = ? AND ${NOT_FINAL})`).run(now, messageId, messageId);
  if (r.changes > 0 && !deleteInlineBody(db, messageId)) fx.unlink.push(messageId);
}

/** True if the message's body was stored inline (and is now deleted); false: it is a spool file. */
function deleteInlineBody(db: Db, messageId: string): boolean {
  return sql(db, 'DELETE FROM message_body WHERE message_id = ?').run(messageId).changes > 0;
}

export function releaseLeases(db: Db, _fx: Effects, owner: string | null, now: number): number {
  return sql(db, `UPDATE recipient SET state = 'queued', next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                  WHERE state = 'delivering' AND (? IS NULL OR lease_owner = ?)`).run(now, now, owner, owner).changes;
}

/** Jobs claimed but never started (no destination slot): back to waiting with their due time, no attempt counted. */
export function unclaimJobs(db: Db, _fx: Effects, owner: string, jobs: { messageId: string; domain: string }[], now: number, dueAt = 0): number {
  const stmt = sql(db, `UPDATE recipient SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END,
                          next_attempt_at = MAX(COALESCE(next_attempt_at, ?), ?), lease_owner = NULL, lease_until = NULL, updated_at = ?
                        WHERE state = 'delivering' AND lease_owner = ? AND message_id = ? AND domain = ?`);
  let n = 0;
  for (const j of jobs) n += stmt.run(now, dueAt, now, owner, j.messageId, j.domain.toLowerCase()).changes;
  return n;
}

export function retry(db: Db, _fx: Effects, id: string | null, now: number): number {
  return sql(db, `UPDATE recipient SET next_attempt_at = ?, updated_at = ?
                  WHERE state IN ('queued', 'deferred') AND (? IS NULL OR message_id = ?)`).run(now, now, id, id).changes;
}

/** Holds waiting (queued/deferred) recipients; ones being delivered right now are not held. */
export function hold(db: Db, _fx: Effects, id: string, now: number): number {
  return sql(db, `UPDATE recipient SET state = 'held', next_attempt_at = NULL, updated_at = ?
                  WHERE message_id = ? AND state IN ('queued', 'deferred')`).run(now, id).changes;
}

export function release(db: Db, _fx: Effects, id: string, now: number): number {
  // Held by a breaker too (the operator overrides it; a claim holds it again while the breaker is open).
  return sql(db, `UPDATE recipient SET state = 'queued', next_attempt_at = @now, updated_at = @now, breaker_id = NULL,
                    held_ms = held_ms + CASE WHEN breaker_id IS NULL THEN 0 ELSE @now - updated_at END
                  WHERE message_id = @id AND state = 'held'`).run({ now, id }).changes;
}

export function deleteMessage(db: Db, fx: Effects, id: string): boolean {
  const inline = deleteInlineBody(db, id);
  const row = sql(db, 'DELETE FROM queued_message WHERE id = ? RETURNING completed_at').get(id) as { completed_at: number | null } | undefined; // cascades
  if (row && row.completed_at === null && !inline) fx.unlink.push(id); // a finished message's body is already gone
  return row !== undefined;
}

/** Deletes finished messages (completed_at < before) with their recipients and history. */
export function purgeFinished(db: Db, _fx: Effects, before: number): number {
  return sql(db, 'DELETE FROM queued_message WHERE completed_at IS NOT NULL AND completed_at < ?').run(before).changes;
}

export function addUser(db: Db, _fx: Effects, u: NewUser): void {
  const account = u.account ?? 'default';
  requireAccount(db, account);
  const r = sql(db, `INSERT INTO smtp_user (name, password_hash, created_at, any_domain, account, limits, default_stream) VALUES (?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (name) DO NOTHING`)
    .run(u.name, u.passwordHash, u.createdAt, u.anyDomain ? 1 : 0, account, JSON.stringify(u.limits ?? {}), u.defaultStream ?? 'transactional');
  if (r.changes === 0) throw new OpError('user-exists', `user ${u.name} already exists`);
  insertUserDomains(db, u.name, u.allowedDomains ?? []);
}

export function removeUser(db: Db, _fx: Effects, name: string): boolean {
  return sql(db, 'DELETE FROM smtp_user WHERE name = ?').run(name).changes > 0;
}

export function recordHeartbeat(db: Db, _fx: Effects, h: NodeHeartbeat): void {
  sql(db, `INSERT INTO relay_node (node_id, started_at, last_seen_at, in_flight) VALUES (?, ?, ?, ?)
           ON CONFLICT (node_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, in_flight = excluded.in_flight`)
    .run(h.nodeId, h.startedAt, h.lastSeenAt, h.inFlight);
}
