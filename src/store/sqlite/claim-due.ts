// claimDue: leases due work as (message, domain) jobs in one transaction. Two ordered index walks
// find candidate groups without scanning the whole backlog — waiting recipients due by
// next_attempt_at, and 'delivering' ones whose lease expired (dead owner) by lease_until — then
// each chosen group's due recipients are flipped to 'delivering' under the new lease.
import type { DeliveryJob } from '../store.js';
import { strongest, suppressionKey } from '../suppression-store.js';
import { sql, type Db, type Effects, type MessageRow } from './rows.js';
import { findIn } from './suppression-ops.js';
import { messageDsn, withRecipientDsn } from '../job-dsn.js';
import type { MessageDsn } from '../../message/dsn-params.js';

export interface ClaimOptions { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: string[] }
interface Group { messageId: string; domain: string; dueAt: number }

const NOT_EXCLUDED = 'domain NOT IN (SELECT value FROM json_each(?))';
const EXPIRED = `SELECT message_id, domain, lease_until AS due_at FROM recipient INDEXED BY recipient_lease
                 WHERE state = 'delivering' AND lease_until < ? AND ${NOT_EXCLUDED} ORDER BY lease_until`;
const WAITING = `SELECT message_id, domain, next_attempt_at AS due_at FROM recipient INDEXED BY recipient_due
                 WHERE state IN ('queued', 'deferred') AND next_attempt_at <= ? AND ${NOT_EXCLUDED} ORDER BY next_attempt_at`;
const IS_DUE = `((state IN ('queued', 'deferred') AND next_attempt_at <= ?) OR (state = 'delivering' AND lease_until < ?))`;

export function claimDue(db: Db, _fx: Effects, opts: ClaimOptions): DeliveryJob[] {
  if (!(opts.limit > 0)) return [];
  const exclude = JSON.stringify((opts.excludeDomains ?? []).map((d) => d.toLowerCase()));
  const groups = new Map<string, Group>();
  collectGroups(db, EXPIRED, opts.now, exclude, opts.limit, groups);
  collectGroups(db, WAITING, opts.now, exclude, opts.limit, groups);
  const chosen = [...groups.values()]
    .sort((a, b) => a.dueAt - b.dueAt || a.messageId.localeCompare(b.messageId) || a.domain.localeCompare(b.domain))
    .slice(0, opts.limit);
  const jobs: DeliveryJob[] = [];
  for (const g of chosen) {
    const job = leaseGroup(db, g, opts);
    if (job) jobs.push(job);
  }
  return jobs;
}

/** Walks one due-ordered index until `limit` distinct groups were seen, keeping each group's earliest due time. */
function collectGroups(db: Db, query: string, now: number, exclude: string, limit: number, into: Map<string, Group>): void {
  let seen = 0;
  const local = new Set<string>();
  for (const row of sql(db, query).iterate(now, exclude) as Iterable<{ message_id: string; domain: string; due_at: number }>) {
    const key = `${row.message_id}\u0000${row.domain}`;
    if (local.has(key)) continue;
    local.add(key);
    const prev = into.get(key);
    if (!prev || row.due_at < prev.dueAt) into.set(key, { messageId: row.message_id, domain: row.domain, dueAt: row.due_at });
    if (++seen >= limit) break;
  }
}

/** Client mail only: each recipient on the account's suppression list for the message's stream carries its entry. */
function withSuppressions(db: Db, m: MessageRow, rcpts: DeliveryJob['recipients']): DeliveryJob['recipients'] {
  if (m.route !== 'relay' || m.is_bounce === 1) return rcpts;
  const found = strongest(findIn(db, m.account, m.stream, rcpts.map((r) => r.address)));
  if (found.size === 0) return rcpts;
  return rcpts.map((r) => {
    const s = found.get(suppressionKey(r.address));
    return s ? { ...r, suppression: s } : r;
  });
}

function leaseGroup(db: Db, g: Group, opts: ClaimOptions): DeliveryJob | null {
  const leaseUntil = opts.now + opts.leaseMs;
  const rows = sql(db, `UPDATE recipient SET state = 'delivering', lease_owner = ?, lease_until = ?, updated_at = ?
                        WHERE message_id = ? AND domain = ? AND ${IS_DUE}
                        RETURNING id, address, attempts`)
    .all(opts.owner, leaseUntil, opts.now, g.messageId, g.domain, opts.now, opts.now) as { id: number; address: string; attempts: number }[];
  if (rows.length === 0) return null;
  const m = sql(db, 'SELECT * FROM queued_message WHERE id = ?').get(g.messageId) as MessageRow;
  const dsn = m.dsn ? JSON.parse(m.dsn) as MessageDsn : null;
  return {
    messageId: m.id,
    domain: g.domain,
    mailFrom: m.mail_from,
    returnPath: m.return_path ?? m.mail_from,
    isBounce: m.is_bounce === 1,
    route: m.route,
    size: m.size,
    receivedAt: m.received_at,
    recipients: withSuppressions(db, m, rows.sort((a, b) => a.id - b.id).map((r) => withRecipientDsn({ id: r.id, address: r.address, attempts: r.attempts }, dsn))),
    stream: m.stream,
    leaseUntil,
    delayNotified: m.delay_notified === 1,
    account: m.account,
    ...messageDsn(dsn),
    transport: { requireTls: m.require_tls === 1, smtpUtf8: m.smtputf8 === 1, tlsOptional: m.tls_optional === 1 },
  };
}
