// claimDue for PostgreSQL: leases due work as (message, domain) jobs in one transaction, safe with
// any number of nodes claiming at once. Ordered index walks — 'delivering' recipients whose lease
// expired by lease_until, then waiting transactional recipients, then waiting broadcast ones, by
// next_attempt_at (recipient_due_stream) — only read (no lock): claim-order.ts orders the groups
// they found, transactional first and accounts in turn, up to 4 × limit candidates. Groups an open
// circuit breaker holds are parked 'held' (breaker-ops.ts); the lease then takes the first `limit`
// other candidates nobody else holds, locking each one's due rows FOR UPDATE SKIP LOCKED in turn,
// so a claim locks only what it leases and concurrent claimers take different work instead of
// one locking the window the others read (bench/README.md, twelfth session, helper pgclaim).
import { holdingBreaker, sendingDomainOf } from '../breaker-rules.js';
import { FAIR_SCAN, fairOrder, TIER, type DueGroup } from '../claim-order.js';
import type { DeliveryJob } from '../store.js';
import { stopsStream, strongest, suppressionKey } from '../suppression-store.js';
import { breakerPolicyOf, holdGroups, openBreakers } from './breaker-ops.js';
import { prepared, runPrepared, type Conn, type MessageRow, type Prepared } from './rows.js';
import { findIn } from './suppression-ops.js';
import { messageDsn, withRecipientDsn } from '../job-dsn.js';

export interface ClaimOptions { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: readonly string[] }
type Group = DueGroup;
interface Leased { id: number; message_id: string; domain: string; address: string; attempts: number; held_ms: number }
interface WalkRow { message_id: string; domain: string; account: string; mail_from: string; stream: string; due_at: number }

/** Candidate rows read per walk, per job asked for: a group usually has few due recipients; FAIR_SCAN lets other accounts be seen. */
const ROWS_PER_JOB = 8;
const NOT_EXCLUDED = 'NOT (r.domain = ANY($2::text[]))';
const COLUMNS = 'r.message_id, r.domain, m.account, m.mail_from, m.stream';
// Named prepared statements (rows.ts): with several nodes the claims run about as often as the
// messages (planning them cost PostgreSQL ≈ 0.4 ms a message with 3 nodes). Every walk is an
// ordered index scan (recipient_lease, recipient_due_stream) whatever the parameters, so the
// generic plan is the custom one. The stream is written into each waiting walk, not a parameter:
// with a parameter the generic plan had no stream statistics to go by and walked recipient_due
// filtering the stream (88 ms for an empty transactional walk over 100,000 due broadcast rows,
// against 0.08 ms on recipient_due_stream).
const EXPIRED = prepared('claim_expired', `SELECT ${COLUMNS}, r.lease_until AS due_at FROM recipient r JOIN queued_message m ON m.id = r.message_id
                 WHERE r.state = 'delivering' AND r.lease_until < $1 AND ${NOT_EXCLUDED}
                 ORDER BY r.lease_until LIMIT $3`);
const waiting = (stream: 'transactional' | 'broadcast'): Prepared => prepared(`claim_waiting_${stream}`, `SELECT ${COLUMNS}, r.next_attempt_at AS due_at
                 FROM recipient r JOIN queued_message m ON m.id = r.message_id
                 WHERE r.stream = '${stream}' AND r.state IN ('queued', 'deferred') AND r.next_attempt_at <= $1 AND ${NOT_EXCLUDED}
                 ORDER BY r.next_attempt_at LIMIT $3`);
const WAITING_TRANSACTIONAL = waiting('transactional');
const WAITING_BROADCAST = waiting('broadcast');
// The lease: candidate groups in claim order ($4/$5, fairOrder's order, $6 of them wanted). Each
// candidate's due rows are locked FOR UPDATE SKIP LOCKED in turn (the LATERAL, under the CTE's
// LIMIT: the nested loop over the candidates stops at the $6th group that had a row for us), so a
// claim locks only what it leases, and a group another claimer is leasing (locked) or has leased
// (committed: the re-check on the newest row version fails) is passed over for the next candidate.
// The candidates are unnested WITH ORDINALITY and nothing sorts them: the nested loop keeps the
// array's order (an ORDER BY over the LATERAL would lock every candidate before sorting). The
// update finds the locked rows by primary key (= ANY of one array: never a scan of the table).
const LEASE = prepared('claim_lease_next', `WITH picked AS (
                 SELECT l.ids FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS c (message_id, domain, ord)
                 CROSS JOIN LATERAL (SELECT array_agg(x.id) AS ids FROM (
                     SELECT r.id FROM recipient r
                     WHERE r.message_id = c.message_id AND r.domain = c.domain
                       AND ((r.state IN ('queued', 'deferred') AND r.next_attempt_at <= $3)
                            OR (r.state = 'delivering' AND r.lease_until < $3))
                     FOR UPDATE OF r SKIP LOCKED) AS x) AS l
                 WHERE l.ids IS NOT NULL
                 LIMIT $6)
               UPDATE recipient SET state = 'delivering', lease_owner = $1, lease_until = $2, updated_at = $3
               WHERE id = ANY (ARRAY(SELECT unnest(ids) FROM picked))
               RETURNING id, message_id, domain, address, attempts, held_ms`);
/** Candidates handed to the lease per job asked for: room to pass over groups other claimers took since the walks read them. */
const CANDIDATES_PER_JOB = 4;

/** Runs inside the caller's transaction. */
export async function claimDue(c: Conn, opts: ClaimOptions): Promise<DeliveryJob[]> {
  if (!(opts.limit > 0)) return [];
  const exclude = excludeParam(opts.excludeDomains ?? []);
  const groups = new Map<string, Group>();
  const rowLimit = Math.min(opts.limit * ROWS_PER_JOB * FAIR_SCAN, 100_000);
  const walks: [Prepared, unknown[], number][] = [
    [EXPIRED, [opts.now, exclude, rowLimit], TIER.expired],
    [WAITING_TRANSACTIONAL, [opts.now, exclude, rowLimit], TIER.transactional],
    [WAITING_BROADCAST, [opts.now, exclude, rowLimit], TIER.broadcast],
  ];
  for (const [query, params, tier] of walks) {
    // Broadcast only when transactional mail leaves room in this claim: transactional first.
    if (tier === TIER.broadcast && groups.size >= opts.limit) break;
    const { rows } = await runPrepared<WalkRow>(c, query, params);
    for (const r of rows) {
      const key = groupKey(r.message_id, r.domain);
      const prev = groups.get(key);
      if (!prev) groups.set(key, { messageId: r.message_id, domain: r.domain, dueAt: r.due_at, account: r.account, mailFrom: r.mail_from, stream: r.stream, tier });
      else if (r.due_at < prev.dueAt) prev.dueAt = r.due_at;
    }
  }
  // The walks only read (no lock): every claimer sees the same head of the queue, and the lease
  // below takes the first `limit` candidate groups nobody else holds, in claim order.
  const ordered = fairOrder(groups.values(), opts.limit * CANDIDATES_PER_JOB);
  if (ordered.length === 0) return [];
  const open = await openBreakers(c);
  const policy = breakerPolicyOf(c);
  const held: { messageId: string; domain: string; breakerId: number }[] = [];
  const chosen: Group[] = [];
  for (const g of ordered) {
    const breakerId = holdingBreaker(open, policy, { account: g.account, stream: g.stream, sendingDomain: sendingDomainOf(g.mailFrom) });
    // Groups a breaker holds are parked as far as the first `limit` candidates reach (as when only those were read).
    if (breakerId === null) chosen.push(g);
    else if (chosen.length < opts.limit) held.push({ messageId: g.messageId, domain: g.domain, breakerId });
  }
  await holdGroups(c, held, opts.now);
  if (chosen.length === 0) return [];
  const leaseUntil = opts.now + opts.leaseMs;
  const { rows: leased } = await runPrepared<Leased>(c, LEASE,
    [opts.owner, leaseUntil, opts.now, chosen.map((g) => g.messageId), chosen.map((g) => g.domain), opts.limit]);
  return buildJobs(c, chosen, leased, leaseUntil);
}

/** Array literals of recent exclusion lists, by identity: the scheduler hands the same frozen list out while the exclusion recurs. */
const literals = new WeakMap<readonly string[], string>();

/** The exclusion list as a text[] literal, lower-cased ('{"a.example","b.example"}'), built once per frozen list. */
function excludeParam(list: readonly string[]): string {
  let literal = literals.get(list);
  if (literal === undefined) {
    literal = `{${list.map((d) => `"${d.toLowerCase().replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
    if (Object.isFrozen(list)) literals.set(list, literal); // a list that may still change is not kept
  }
  return literal;
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

/** A (message, domain) job's key in the maps above. */
const groupKey = (messageId: string, domain: string): string => `${messageId}\u0000${domain}`;


async function buildJobs(c: Conn, chosen: Group[], leased: Leased[], leaseUntil: number): Promise<DeliveryJob[]> {
  const ids = [...new Set(leased.map((r) => r.message_id))];
  const { rows } = await c.query<MessageRow>('SELECT * FROM queued_message WHERE id = ANY($1::text[])', [ids]);
  const messages = new Map(rows.map((m) => [m.id, m]));
  // The lease took some of the (up to 4 × limit) candidates: group its rows by (message, domain)
  // in one pass and keep the candidates' claim order, passing over the ones it did not get.
  const byGroup = new Map<string, Leased[]>();
  for (const r of leased) {
    const key = groupKey(r.message_id, r.domain);
    const list = byGroup.get(key);
    if (list) list.push(r); else byGroup.set(key, [r]);
  }
  const jobs: DeliveryJob[] = [];
  for (const g of chosen) {
    const rcpts = byGroup.get(groupKey(g.messageId, g.domain));
    const m = messages.get(g.messageId);
    if (!rcpts || !m) continue;
    rcpts.sort((a, b) => a.id - b.id);
    jobs.push({
      messageId: m.id, domain: g.domain, mailFrom: m.mail_from, returnPath: m.return_path ?? m.mail_from, isBounce: m.is_bounce,
      route: m.route, size: m.size, receivedAt: m.received_at,
      recipients: rcpts.map((r) => withRecipientDsn({ id: r.id, address: r.address, attempts: r.attempts }, m.dsn)),
      stream: m.stream, leaseUntil, delayNotified: m.delay_notified, account: m.account, ...messageDsn(m.dsn), heldMs: Math.max(...rcpts.map((r) => r.held_ms)),
      transport: { requireTls: m.require_tls, smtpUtf8: m.smtputf8, tlsOptional: m.tls_optional },
    });
  }
  return attachSuppressions(c, jobs);
}
