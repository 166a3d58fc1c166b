// claimDue: leases due work as (message, domain) jobs in one transaction. Ordered index walks
// find candidate groups without scanning the whole backlog — 'delivering' recipients whose lease
// expired (dead owner) by lease_until, then waiting transactional recipients, then waiting
// broadcast ones, each by next_attempt_at — and claim-order.ts hands them out transactional first
// and accounts in turn. The waiting walks read only the covering index recipient_due_claim
// (stream, next_attempt_at, account, message_id, domain, state): the recipient row carries its message's
// account (v17), so no table row is read per walked entry. A chosen group that an open circuit
// breaker holds (breaker-rules.ts, read from the message row) is parked 'held' instead of leased;
// every other group's due recipients are flipped to 'delivering' under the new lease.
import { holdingBreaker, sendingDomainOf } from '../breaker-rules.js';
import { FAIR_SCAN, fairOrder, TIER, type FairGroup } from '../claim-order.js';
import type { DeliveryJob } from '../store.js';
import { strongest, suppressionKey } from '../suppression-store.js';
import { breakerPolicyOf, holdGroup, openBreakers } from './breaker-ops.js';
import { sql, type Db, type Effects, type MessageRow } from './rows.js';
import { findIn } from './suppression-ops.js';
import { messageDsn, withRecipientDsn } from '../job-dsn.js';
import type { MessageDsn } from '../../message/dsn-params.js';
import { EXCLUSIONS_KEPT, type Exclusion } from './protocol.js';

export interface ClaimOptions {
  now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: readonly string[];
  /** Instead of excludeDomains (sqlite-store.ts): a numbered list, its domains sent only the first time. */
  exclusion?: Exclusion;
}
/** Each store's recent exclusion lists as json_each input, by number (per writer connection: one process may open several stores). */
const exclusionsOf = new WeakMap<Db, Map<number, string>>();
type Group = FairGroup;

const NOT_EXCLUDED = 'domain NOT IN (SELECT value FROM json_each(@exclude))';
const COLUMNS = 'message_id, domain, account';
const EXPIRED = `SELECT ${COLUMNS}, lease_until AS due_at FROM recipient INDEXED BY recipient_lease
                 WHERE state = 'delivering' AND lease_until < @now AND ${NOT_EXCLUDED} ORDER BY lease_until`;
const WAITING = `SELECT ${COLUMNS}, next_attempt_at AS due_at FROM recipient INDEXED BY recipient_due_claim
                 WHERE stream = @stream AND state IN ('queued', 'deferred') AND next_attempt_at <= @now AND ${NOT_EXCLUDED}
                 ORDER BY next_attempt_at`;
const IS_DUE = `((state IN ('queued', 'deferred') AND next_attempt_at <= ?) OR (state = 'delivering' AND lease_until < ?))`;

/** The message columns a job is built from (not its origin, header prefix, tags or metadata). */
const MESSAGE = `SELECT id, mail_from, return_path, size, received_at, is_bounce, route, delay_notified, account, stream, dsn,
                        require_tls, smtputf8, tls_optional FROM queued_message WHERE id = ?`;
type ClaimedMessage = Pick<MessageRow, 'id' | 'mail_from' | 'return_path' | 'size' | 'received_at' | 'is_bounce' | 'route' | 'delay_notified'
  | 'account' | 'stream' | 'dsn' | 'require_tls' | 'smtputf8' | 'tls_optional'>;

export function claimDue(db: Db, _fx: Effects, opts: ClaimOptions): DeliveryJob[] {
  if (!(opts.limit > 0)) return [];
  const exclude = excludeJson(db, opts);
  const groups = new Map<string, Group>();
  const budget = opts.limit * FAIR_SCAN;
  collectGroups(db, EXPIRED, { now: opts.now, exclude }, TIER.expired, budget, groups);
  collectGroups(db, WAITING, { now: opts.now, exclude, stream: 'transactional' }, TIER.transactional, budget, groups);
  // Broadcast only when transactional mail leaves room in this claim: transactional first.
  if (groups.size < opts.limit) collectGroups(db, WAITING, { now: opts.now, exclude, stream: 'broadcast' }, TIER.broadcast, budget, groups);
  const open = openBreakers(db);
  const policy = breakerPolicyOf(db);
  const jobs: DeliveryJob[] = [];
  const messages = new Map<string, ClaimedMessage | undefined>(); // a message's groups of one claim read its row once
  const lookups = new Map<string, DeliveryJob[]>(); // client mail's jobs by account and stream: one suppression lookup each
  for (const g of fairOrder(groups.values(), opts.limit)) {
    let m = messages.get(g.messageId);
    if (m === undefined && !messages.has(g.messageId)) messages.set(g.messageId, (m = sql(db, MESSAGE).get(g.messageId) as ClaimedMessage | undefined));
    if (!m) continue;
    const breaker = holdingBreaker(open, policy, { account: m.account, stream: m.stream, sendingDomain: sendingDomainOf(m.mail_from) });
    if (breaker !== null) { holdGroup(db, g.messageId, g.domain, breaker, opts.now); continue; }
    const job = leaseGroup(db, g, m, opts);
    if (!job) continue;
    jobs.push(job);
    if (m.route === 'relay' && m.is_bounce !== 1) { // client mail: its recipients are looked up on the suppression list
      const key = `${m.account}\u0000${m.stream}`;
      const list = lookups.get(key);
      if (list) list.push(job); else lookups.set(key, [job]);
    }
  }
  for (const list of lookups.values()) markSuppressed(db, list);
  return jobs;
}

const toJson = (domains: readonly string[]) => JSON.stringify(domains.map((d) => d.toLowerCase()));

/** The @exclude parameter: excludeDomains, or a numbered list (defined now, or one of the last few). */
function excludeJson(db: Db, opts: ClaimOptions): string {
  if (!opts.exclusion) return toJson(opts.excludeDomains ?? []);
  const { id, domains } = opts.exclusion;
  let exclusions = exclusionsOf.get(db);
  if (!exclusions) exclusionsOf.set(db, (exclusions = new Map()));
  if (domains) {
    exclusions.set(id, toJson(domains));
    for (const k of exclusions.keys()) if (k <= id - EXCLUSIONS_KEPT) exclusions.delete(k);
  }
  const json = exclusions.get(id);
  // Not expected (the store names only lists it defined among the last few): the store forgets the list on this failure and sends it again.
  if (json === undefined) throw new Error(`exclusion list ${id} is not known to the store executor`);
  return json;
}

interface WalkRow { message_id: string; domain: string; account: string; due_at: number }

/** Walks one due-ordered index until `limit` distinct groups were seen, keeping each group's earliest due time and first tier. */
function collectGroups(db: Db, query: string, params: Record<string, unknown>, tier: number, limit: number, into: Map<string, Group>): void {
  let seen = 0;
  const local = new Set<string>();
  for (const row of sql(db, query).iterate(params) as Iterable<WalkRow>) {
    const key = `${row.message_id}\u0000${row.domain}`;
    if (local.has(key)) continue;
    local.add(key);
    const prev = into.get(key);
    if (!prev) into.set(key, { messageId: row.message_id, domain: row.domain, dueAt: row.due_at, account: row.account, tier });
    else if (row.due_at < prev.dueAt) prev.dueAt = row.due_at;
    if (++seen >= limit) break;
  }
}

/**
 * Client mail only (jobs of one account and stream): each recipient on the account's suppression
 * list for the stream carries its entry. One lookup for the claim's jobs of that account and stream,
 * not one per job.
 */
function markSuppressed(db: Db, jobs: DeliveryJob[]): void {
  const { account, stream } = jobs[0]!;
  const addresses = jobs.length === 1 ? jobs[0]!.recipients.map((r) => r.address) : jobs.flatMap((j) => j.recipients.map((r) => r.address));
  const found = strongest(findIn(db, account, stream, addresses));
  if (found.size === 0) return;
  for (const job of jobs) {
    job.recipients = job.recipients.map((r) => {
      const s = found.get(suppressionKey(r.address));
      return s ? { ...r, suppression: s } : r;
    });
  }
}

function leaseGroup(db: Db, g: Group, m: ClaimedMessage, opts: ClaimOptions): DeliveryJob | null {
  const leaseUntil = opts.now + opts.leaseMs;
  const rows = sql(db, `UPDATE recipient SET state = 'delivering', lease_owner = ?, lease_until = ?, updated_at = ?
                        WHERE message_id = ? AND domain = ? AND ${IS_DUE}
                        RETURNING id, address, attempts, held_ms`)
    .all(opts.owner, leaseUntil, opts.now, g.messageId, g.domain, opts.now, opts.now) as { id: number; address: string; attempts: number; held_ms: number }[];
  if (rows.length === 0) return null;
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
    recipients: rows.sort((a, b) => a.id - b.id).map((r) => withRecipientDsn({ id: r.id, address: r.address, attempts: r.attempts }, dsn)),
    stream: m.stream,
    leaseUntil,
    delayNotified: m.delay_notified === 1,
    account: m.account,
    ...messageDsn(dsn),
    transport: { requireTls: m.require_tls === 1, smtpUtf8: m.smtputf8 === 1, tlsOptional: m.tls_optional === 1 },
    heldMs: Math.max(...rows.map((r) => r.held_ms)),
  };
}
