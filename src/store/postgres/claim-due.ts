// claimDue for PostgreSQL: leases due work as (message, domain) jobs in one transaction, safe with
// any number of nodes claiming at once. Two ordered index walks — waiting recipients by
// next_attempt_at, and 'delivering' ones whose lease expired by lease_until — lock candidate rows
// FOR UPDATE SKIP LOCKED, so concurrent claimers take different work instead of queueing behind
// each other; then every due recipient of each chosen group is flipped to 'delivering' under the
// new lease (again SKIP LOCKED: a row another claimer holds is its, not ours).
import type { DeliveryJob } from '../store.js';
import { stopsStream, strongest, suppressionKey } from '../suppression-store.js';
import type { Conn, MessageRow } from './rows.js';
import { findIn } from './suppression-ops.js';
import { messageDsn, withRecipientDsn } from '../job-dsn.js';

export interface ClaimOptions { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: string[] }
interface Group { messageId: string; domain: string; dueAt: number }
interface Leased { id: number; message_id: string; domain: string; address: string; attempts: number }

/** Candidate rows read per walk, per job asked for: a group usually has few due recipients. */
const ROWS_PER_JOB = 8;
const NOT_EXCLUDED = 'NOT (domain = ANY($2::text[]))';
const EXPIRED = `SELECT message_id, domain, lease_until AS due_at FROM recipient
                 WHERE state = 'delivering' AND lease_until < $1 AND ${NOT_EXCLUDED}
                 ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED`;
const WAITING = `SELECT message_id, domain, next_attempt_at AS due_at FROM recipient
                 WHERE state IN ('queued', 'deferred') AND next_attempt_at <= $1 AND ${NOT_EXCLUDED}
                 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED`;
const LEASE = `UPDATE recipient SET state = 'delivering', lease_owner = $1, lease_until = $2, updated_at = $3
               WHERE id IN (SELECT id FROM recipient
                            WHERE (message_id, domain) IN (SELECT * FROM unnest($4::text[], $5::text[]))
                              AND ((state IN ('queued', 'deferred') AND next_attempt_at <= $3)
                                   OR (state = 'delivering' AND lease_until < $3))
                            FOR UPDATE SKIP LOCKED)
               RETURNING id, message_id, domain, address, attempts`;

/** Runs inside the caller's transaction. */
export async function claimDue(c: Conn, opts: ClaimOptions): Promise<DeliveryJob[]> {
  if (!(opts.limit > 0)) return [];
  const exclude = (opts.excludeDomains ?? []).map((d) => d.toLowerCase());
  const groups = new Map<string, Group>();
  const rowLimit = Math.min(opts.limit * ROWS_PER_JOB, 100_000);
  for (const query of [EXPIRED, WAITING]) {
    const { rows } = await c.query<{ message_id: string; domain: string; due_at: number }>(query, [opts.now, exclude, rowLimit]);
    for (const r of rows) {
      const key = `${r.message_id}\u0000${r.domain}`;
      const prev = groups.get(key);
      if (!prev || r.due_at < prev.dueAt) groups.set(key, { messageId: r.message_id, domain: r.domain, dueAt: r.due_at });
    }
  }
  const chosen = [...groups.values()]
    .sort((a, b) => a.dueAt - b.dueAt || cmp(a.messageId, b.messageId) || cmp(a.domain, b.domain))
    .slice(0, opts.limit);
  if (chosen.length === 0) return [];
  const leaseUntil = opts.now + opts.leaseMs;
  const { rows: leased } = await c.query<Leased>(LEASE,
    [opts.owner, leaseUntil, opts.now, chosen.map((g) => g.messageId), chosen.map((g) => g.domain)]);
  return buildJobs(c, chosen, leased, leaseUntil);
}

/** Client mail only: each recipient on its account's suppression list for its message's stream carries its entry (one statement). */
async function attachSuppressions(c: Conn, jobs: DeliveryJob[]): Promise<DeliveryJob[]> {
  const client = jobs.filter((j) => j.route === 'relay' && !j.isBounce);
  if (client.length === 0) return jobs;
  const entries = await findIn(c, client.map((j) => j.account), null, client.map((j) => j.recipients.map((r) => r.address)));
  if (entries.length === 0) return jobs;
  return jobs.map((j) => {
    if (j.route !== 'relay' || j.isBounce) return j;
    const found = strongest(entries.filter((e) => e.account === j.account && stopsStream(e.scope, j.stream)));
    if (found.size === 0) return j;
    return { ...j, recipients: j.recipients.map((r) => { const s = found.get(suppressionKey(r.address)); return s ? { ...r, suppression: s } : r; }) };
  });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function buildJobs(c: Conn, chosen: Group[], leased: Leased[], leaseUntil: number): Promise<DeliveryJob[]> {
  const ids = [...new Set(leased.map((r) => r.message_id))];
  const { rows } = await c.query<MessageRow>('SELECT * FROM queued_message WHERE id = ANY($1::text[])', [ids]);
  const messages = new Map(rows.map((m) => [m.id, m]));
  const jobs: DeliveryJob[] = [];
  for (const g of chosen) {
    const rcpts = leased.filter((r) => r.message_id === g.messageId && r.domain === g.domain).sort((a, b) => a.id - b.id);
    const m = messages.get(g.messageId);
    if (rcpts.length === 0 || !m) continue;
    jobs.push({
      messageId: m.id, domain: g.domain, mailFrom: m.mail_from, returnPath: m.return_path ?? m.mail_from, isBounce: m.is_bounce,
      route: m.route, size: m.size, receivedAt: m.received_at,
      recipients: rcpts.map((r) => withRecipientDsn({ id: r.id, address: r.address, attempts: r.attempts }, m.dsn)),
      stream: m.stream, leaseUntil, delayNotified: m.delay_notified, account: m.account, ...messageDsn(m.dsn),
      transport: { requireTls: m.require_tls, smtpUtf8: m.smtputf8, tlsOptional: m.tls_optional },
    });
  }
  return attachSuppressions(c, jobs);
}
