// claimDue for PostgreSQL: leases due work as (message, domain) jobs, safe with any number of nodes
// claiming at once, in few round trips (claim(): find, lease, suppressions; no transaction). Ordered index walks — 'delivering' recipients whose lease
// expired by lease_until, then waiting transactional recipients, then waiting broadcast ones, by
// next_attempt_at (recipient_due_stream) — only read (no lock): claim-order.ts orders the groups
// they found, transactional first and accounts in turn, up to 4 × limit candidates. Groups an open
// circuit breaker holds are parked 'held' (breaker-ops.ts); the lease then takes the first `limit`
// other candidates nobody else holds, locking each one's due rows FOR UPDATE SKIP LOCKED in turn,
// so a claim locks only what it leases and concurrent claimers take different work instead of
// one locking the window the others read (bench/README.md, twelfth session, helper pgclaim).
import { holdingBreaker, sendingDomainOf, type Breaker } from '../breaker-rules.js';
import { FAIR_SCAN, fairOrder, TIER, type DueGroup } from '../claim-order.js';
import type { DeliveryJob } from '../store.js';
import { stopsStream, strongest, suppressionKey } from '../suppression-store.js';
import { breakerPolicyOf, holdGroups } from './breaker-ops.js';
import { unclaimJobs } from './slot-ops.js';
import { prepared, runPrepared, type Conn, type MessageRow } from './rows.js';
import { findIn } from './suppression-ops.js';
import { NEXT_DUE_TEXT } from './read-ops.js';
import { messageDsn, withRecipientDsn } from '../job-dsn.js';

export interface ClaimOptions { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: readonly string[] }
type Group = DueGroup;
/** A leased recipient with its message's columns (LEASE). */
type LeasedRow = { id: number; message_id: string; domain: string; address: string; attempts: number; held_ms: number }
  & Pick<MessageRow, 'mail_from' | 'return_path' | 'is_bounce' | 'route' | 'size' | 'received_at' | 'dsn' | 'delay_notified' | 'account' | 'stream'
    | 'require_tls' | 'smtputf8' | 'tls_optional'>;
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
// The three walks and the open breakers are one statement (WALKS), run outside any transaction:
// they only read, and under READ COMMITTED each statement had its own snapshot anyway. A claim that
// finds nothing due is that one round trip, where BEGIN, three walks and COMMIT were five: with
// several nodes most claims find nothing (a node woken by its own put finds its message already
// leased by another node's claim; bench/README.md, twenty-first and twenty-second sessions). Each
// walk is its own LIMITed ordered index scan (recipient_lease, recipient_due_stream) in the
// UNION ALL; the broadcast one runs only when the expired and transactional walks found fewer
// than $4 groups (a one-time filter: transactional first, as when it was a statement of its own).
// Rows carry their walk's tier; a breaker's row (tier BREAKER_ROW) carries its id in due_at, its
// scope type in domain and its key in account.
const walk = (tier: number, where: string, due: string) => `SELECT ${tier} AS tier, ${COLUMNS}, ${due} AS due_at
                 FROM recipient r JOIN queued_message m ON m.id = r.message_id
                 WHERE ${where} AND ${NOT_EXCLUDED}
                 ORDER BY ${due} LIMIT $3`;
const waitingIn = (stream: 'transactional' | 'broadcast') => `r.stream = '${stream}' AND r.state IN ('queued', 'deferred') AND r.next_attempt_at <= $1`;
const BREAKER_ROW = -1;
/** WALKS' last row: in due_at, nextDueAt's answer in the same snapshot (the waiting recipients' earliest next_attempt_at, due or not; NULL: none). */
const NEXT_ROW = -2;
export const WALKS = prepared('claim_walks', `WITH e AS (${walk(TIER.expired, "r.state = 'delivering' AND r.lease_until < $1", 'r.lease_until')}),
               t AS (${walk(TIER.transactional, waitingIn('transactional'), 'r.next_attempt_at')})
               SELECT * FROM e UNION ALL SELECT * FROM t
               UNION ALL (${walk(TIER.broadcast, `${waitingIn('broadcast')}
                   AND (SELECT count(*) FROM (SELECT message_id, domain FROM e UNION SELECT message_id, domain FROM t) AS g) < $4`, 'r.next_attempt_at')})
               UNION ALL SELECT ${BREAKER_ROW}, NULL, scope_type, scope_key, NULL, NULL, id FROM breaker WHERE resumed_at IS NULL
               UNION ALL SELECT ${NEXT_ROW}, NULL, NULL, NULL, NULL, NULL, (${NEXT_DUE_TEXT})`);
// The lease: candidate groups in claim order ($4/$5, fairOrder's order, $6 of them wanted). Each
// candidate's due rows are locked FOR UPDATE SKIP LOCKED in turn (the LATERAL, under the CTE's
// LIMIT: the nested loop over the candidates stops at the $6th group that had a row for us), so a
// claim locks only what it leases, and a group another claimer is leasing (locked) or has leased
// (committed: the re-check on the newest row version fails) is passed over for the next candidate.
// The candidates are unnested WITH ORDINALITY and nothing sorts them: the nested loop keeps the
// array's order (an ORDER BY over the LATERAL would lock every candidate before sorting). The
// update finds the locked rows by primary key (= ANY of one array: never a scan of the table).
// The leased recipients come back with their message's columns (the job's), in the same statement:
// one round trip where the lease and the message rows' read were two. Run alone it is its own
// transaction: the lease is committed when it answers.
const LEASE = prepared('claim_lease_jobs', `WITH picked AS (
                 SELECT l.ids FROM unnest($4::text[], $5::text[]) WITH ORDINALITY AS c (message_id, domain, ord)
                 CROSS JOIN LATERAL (SELECT array_agg(x.id) AS ids FROM (
                     SELECT r.id FROM recipient r
                     WHERE r.message_id = c.message_id AND r.domain = c.domain
                       AND ((r.state IN ('queued', 'deferred') AND r.next_attempt_at <= $3)
                            OR (r.state = 'delivering' AND r.lease_until < $3))
                     FOR UPDATE OF r SKIP LOCKED) AS x) AS l
                 WHERE l.ids IS NOT NULL
                 LIMIT $6),
               leased AS (UPDATE recipient SET state = 'delivering', lease_owner = $1, lease_until = $2, updated_at = $3
                 WHERE id = ANY (ARRAY(SELECT unnest(ids) FROM picked))
                 RETURNING id, message_id, domain, address, attempts, held_ms)
               SELECT l.id, l.message_id, l.domain, l.address, l.attempts, l.held_ms,
                      m.mail_from, m.return_path, m.is_bounce, m.route, m.size, m.received_at, m.dsn, m.delay_notified,
                      m.account, m.stream, m.require_tls, m.smtputf8, m.tls_optional
               FROM leased l JOIN queued_message m ON m.id = l.message_id`);
/** Candidates handed to the lease per job asked for: room to pass over groups other claimers took since the walks read them. */
const CANDIDATES_PER_JOB = 4;

/**
 * What a claim did: the jobs leased, whether it wrote anything (a lease, a group parked by a
 * breaker), and, when its walks found nothing due (so it leased nothing), nextDueAt's answer read
 * in the same statement (undefined otherwise: ask nextDueAt).
 */
export interface Claimed { jobs: DeliveryJob[]; wrote: boolean; nextDueAt?: number | null }

/** claim() for a caller that only wants the jobs (in its own transaction, or none). */
export async function claimDue(c: Conn, opts: ClaimOptions): Promise<DeliveryJob[]> {
  return (await claim(c, opts)).jobs;
}

/**
 * Leases due work: one statement to find it (WALKS), one to lease it with its messages' columns
 * (LEASE), one for the leased client mail's suppression entries, and, when an open breaker holds
 * some candidates, one to park those. The store runs it outside a transaction: each statement
 * commits on its own, the lease atomic as one UPDATE (a group is leased whole or passed over). A
 * failure after the lease committed (the suppression read) gives the jobs back (unclaimJobs: due
 * again at once, no attempt counted) before it throws; if that fails too, they are leased to us
 * until delivery.leaseTime passes and any node reclaims them, as a node that dies leaves them.
 */
export async function claim(c: Conn, opts: ClaimOptions): Promise<Claimed> {
  if (!(opts.limit > 0)) return { jobs: [], wrote: false };
  const exclude = excludeParam(opts.excludeDomains ?? []);
  const rowLimit = Math.min(opts.limit * ROWS_PER_JOB * FAIR_SCAN, 100_000);
  const { rows } = await runPrepared<WalkRow & { tier: number }>(c, WALKS, [opts.now, exclude, rowLimit, opts.limit]);
  if (rows.length === 0 || rows.every((r) => r.tier < 0)) {
    return { jobs: [], wrote: false, nextDueAt: rows.find((r) => r.tier === NEXT_ROW)?.due_at ?? null };
  }
  // Each walk's rows in its tier's order (expired, transactional, broadcast): a group seen by two
  // walks keeps the first one's tier, and its earliest due time.
  const groups = new Map<string, Group>();
  const open: Pick<Breaker, 'id' | 'scope'>[] = [];
  for (const tier of [TIER.expired, TIER.transactional, TIER.broadcast]) {
    for (const r of rows) {
      if (r.tier !== tier) continue;
      const key = groupKey(r.message_id, r.domain);
      const prev = groups.get(key);
      if (!prev) groups.set(key, { messageId: r.message_id, domain: r.domain, dueAt: r.due_at, account: r.account, mailFrom: r.mail_from, stream: r.stream, tier });
      else if (r.due_at < prev.dueAt) prev.dueAt = r.due_at;
    }
  }
  for (const r of rows) if (r.tier === BREAKER_ROW) open.push({ id: Number(r.due_at), scope: { type: r.domain as Breaker['scope']['type'], key: r.account } });
  // The walks only read (no lock): every claimer sees the same head of the queue, and the lease
  // below takes the first `limit` candidate groups nobody else holds, in claim order.
  const ordered = fairOrder(groups.values(), opts.limit * CANDIDATES_PER_JOB);
  if (ordered.length === 0) return { jobs: [], wrote: false };
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
  if (chosen.length === 0) return { jobs: [], wrote: held.length > 0 };
  const leaseUntil = opts.now + opts.leaseMs;
  const { rows: leased } = await runPrepared<LeasedRow>(c, LEASE,
    [opts.owner, leaseUntil, opts.now, chosen.map((g) => g.messageId), chosen.map((g) => g.domain), opts.limit]);
  if (leased.length === 0) return { jobs: [], wrote: held.length > 0 };
  const jobs = buildJobs(chosen, leased, leaseUntil);
  try {
    return { jobs: await attachSuppressions(c, jobs), wrote: true };
  } catch (err) {
    await unclaimJobs(c, opts.owner, jobs, opts.now).catch(() => undefined);
    throw err;
  }
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


/** The jobs of the leased rows, in the candidates' claim order (the lease took some of the up to 4 × limit candidates). */
function buildJobs(chosen: Group[], leased: LeasedRow[], leaseUntil: number): DeliveryJob[] {
  // Group the rows by (message, domain) in one pass and keep the candidates' claim order, passing over the ones it did not get.
  const byGroup = new Map<string, LeasedRow[]>();
  for (const r of leased) {
    const key = groupKey(r.message_id, r.domain);
    const list = byGroup.get(key);
    if (list) list.push(r); else byGroup.set(key, [r]);
  }
  const jobs: DeliveryJob[] = [];
  for (const g of chosen) {
    const rcpts = byGroup.get(groupKey(g.messageId, g.domain));
    if (!rcpts) continue;
    rcpts.sort((a, b) => a.id - b.id);
    const m = rcpts[0]!;
    jobs.push({
      messageId: m.message_id, domain: g.domain, mailFrom: m.mail_from, returnPath: m.return_path ?? m.mail_from, isBounce: m.is_bounce,
      route: m.route, size: m.size, receivedAt: m.received_at,
      recipients: rcpts.map((r) => withRecipientDsn({ id: r.id, address: r.address, attempts: r.attempts }, m.dsn)),
      stream: m.stream, leaseUntil, delayNotified: m.delay_notified, account: m.account, ...messageDsn(m.dsn), heldMs: Math.max(...rcpts.map((r) => r.held_ms)),
      transport: { requireTls: m.require_tls, smtpUtf8: m.smtputf8, tlsOptional: m.tls_optional },
    });
  }
  return jobs;
}
