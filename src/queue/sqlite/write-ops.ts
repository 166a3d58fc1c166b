// The worker's writing operations other than claimDue: each runs inside a savepoint of the
// current group-commit transaction and records in `fx` what must happen around the commit.
// Late results: recordResults only updates recipients still 'delivering' (and, when the caller
// names its lease owner, still leased to it), so a recipient deleted, released or reclaimed
// meanwhile is never resurrected or overwritten; the attempt is still kept in the history.
import type { GeneratedMessage, NewMessage, RecipientOutcome, UserRecord } from '../store.js';
import { domainOf, OpError, sql, type Db, type Effects } from './rows.js';

const NOT_FINAL = `state NOT IN ('delivered', 'bounced', 'expired')`;

export function put(db: Db, fx: Effects, m: NewMessage, now: number): void {
  if (m.recipients.length === 0) throw new OpError('write', 'message has no recipients');
  sql(db, `INSERT INTO queued_message (id, mail_from, size, received_at, origin, is_bounce, route)
           VALUES (?, ?, ?, ?, ?, ?, ?)`)
    .run(m.id, m.mailFrom, m.size, m.receivedAt, JSON.stringify(m.origin), m.isBounce ? 1 : 0, m.route);
  const insert = sql(db, `INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at)
                          VALUES (?, ?, ?, 'queued', ?, ?)`);
  for (const rcpt of m.recipients) insert.run(m.id, rcpt, domainOf(rcpt), m.receivedAt, now);
  fx.syncSpool = true; // the body's directory entry must be durable before this commit
}

export function recordResults(
  db: Db, fx: Effects, messageId: string, outcomes: RecipientOutcome[], generated: GeneratedMessage[] = [],
  opts: { delayNotified?: boolean; owner?: string } = {}, now: number,
): void {
  if (!sql(db, 'SELECT 1 FROM queued_message WHERE id = ?').get(messageId)) {
    // Deleted meanwhile: a no-op. Bodies written for DSNs that will never be stored go too.
    const unknown = generated.map((g) => g.message.id).filter((id) => !sql(db, 'SELECT 1 FROM queued_message WHERE id = ?').get(id));
    fx.unlink.push(...unknown);
    return;
  }
  const update = sql(db, `UPDATE recipient SET state = ?, attempts = attempts + 1, next_attempt_at = ?, lease_owner = NULL,
                            lease_until = NULL, last_response = ?, updated_at = ?
                          WHERE id = ? AND message_id = ? AND state = 'delivering' AND (? IS NULL OR lease_owner = ?)`);
  const history = sql(db, `INSERT INTO attempt (message_id, rcpt_id, at, status, host, response)
                           SELECT message_id, id, ?, ?, ?, ? FROM recipient WHERE id = ? AND message_id = ?`);
  const owner = opts.owner ?? null;
  for (const o of outcomes) {
    const next = o.status === 'deferred' ? o.nextAttemptAt : null;
    update.run(o.status, next, o.response, now, o.rcptId, messageId, owner, owner);
    history.run(now, o.status, o.host ?? null, o.response, o.rcptId, messageId);
  }
  if (opts.delayNotified) sql(db, 'UPDATE queued_message SET delay_notified = 1 WHERE id = ?').run(messageId);
  for (const g of generated) put(db, fx, g.message, now);
  completeIfFinal(db, fx, messageId, now);
}

/** Stamps completed_at once every recipient is final; the body goes after the commit. */
function completeIfFinal(db: Db, fx: Effects, messageId: string, now: number): void {
  const open = sql(db, `SELECT COUNT(*) AS n FROM recipient WHERE message_id = ? AND ${NOT_FINAL}`).get(messageId) as { n: number };
  if (open.n > 0) return;
  const r = sql(db, 'UPDATE queued_message SET completed_at = ? WHERE id = ? AND completed_at IS NULL').run(now, messageId);
  if (r.changes > 0) fx.unlink.push(messageId);
}

export function releaseLeases(db: Db, _fx: Effects, owner: string | null, now: number): number {
  return sql(db, `UPDATE recipient SET state = 'queued', next_attempt_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?
                  WHERE state = 'delivering' AND (? IS NULL OR lease_owner = ?)`).run(now, now, owner, owner).changes;
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
  return sql(db, `UPDATE recipient SET state = 'queued', next_attempt_at = ?, updated_at = ?
                  WHERE message_id = ? AND state = 'held'`).run(now, now, id).changes;
}

export function deleteMessage(db: Db, fx: Effects, id: string): boolean {
  const deleted = sql(db, 'DELETE FROM queued_message WHERE id = ?').run(id).changes > 0; // cascades
  if (deleted) fx.unlink.push(id);
  return deleted;
}

/** Deletes finished messages (completed_at < before) with their recipients and history. */
export function purgeFinished(db: Db, _fx: Effects, before: number): number {
  return sql(db, 'DELETE FROM queued_message WHERE completed_at IS NOT NULL AND completed_at < ?').run(before).changes;
}

export function addUser(db: Db, _fx: Effects, u: UserRecord): void {
  const r = sql(db, 'INSERT INTO smtp_user (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING')
    .run(u.name, u.passwordHash, u.createdAt);
  if (r.changes === 0) throw new OpError('user-exists', `user ${u.name} already exists`);
}

export function removeUser(db: Db, _fx: Effects, name: string): boolean {
  return sql(db, 'DELETE FROM smtp_user WHERE name = ?').run(name).changes > 0;
}
