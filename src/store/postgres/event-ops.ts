// Event-log operations. writeEvents runs inside put/recordResults' transaction (the
// transactional outbox: an event commits with the state change it reports, or not at all) and
// fans the events out to the outbox of the account's enabled webhooks that want them, all in
// one statement each. Reads always filter by account.
// Sequence numbers come from a bigserial, so a transaction that commits late can make an event
// with a lower seq appear after a reader has paged past it; events of one message are always in
// order (their writers lock the message row), which is what webhooks promise.
import { countedState } from '../sql/queue-overview.js';
import { eventLimit, searchLimit, toEvent, type EventRowValues } from '../event-mapping.js';
import type { EventQuery, MessageEvent, MessageMeta, MessageSearch, MessageSummary } from '../platform-store.js';
import { DEFAULT_SOFT_BOUNCE_POLICY, effectsOf, softBounceSuppression, type EffectEvent, type StatDelta } from '../event-effects.js';
import { COUNT_SOFT_BOUNCE } from '../sql/suppressions.js';
import type { SoftBouncePolicy } from '../suppression-store.js';
import { prepared, runPrepared, toMeta, type Conn, type MessageRow } from './rows.js';
import { insertSuppressions } from './suppression-ops.js';
import { applyBreakers, countsForBreakers } from './breaker-ops.js';
import { breakerEventData } from '../breaker-rules.js';

export interface NewEvent { at: number; type: string; messageId: string | null; recipient: string | null; data: Record<string, unknown> }

/**
 * Appends events of one account in order and queues each for the account's enabled webhooks
 * that want its type, in one statement (one round trip; the webhook lookup is an indexed probe,
 * usually empty). Returns their seqs in order.
 */
const WRITE_EVENTS = prepared('write_events', `
  WITH ins AS (
    INSERT INTO event (at, account, type, message_id, recipient, data)
    SELECT at, $1::text, type, mid, rcpt, data::jsonb
    FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e (at, type, mid, rcpt, data, i)
    ORDER BY i RETURNING seq, type, at),
  fan AS (
    INSERT INTO webhook_delivery (webhook_id, event_seq, next_attempt_at)
    SELECT w.id, ins.seq, ins.at FROM ins JOIN webhook w
      ON w.account = $1 AND w.enabled AND (w.events = '[]'::jsonb OR w.events ? ins.type)),
  ${STAT_DELTAS(7)},
  clr AS (DELETE FROM soft_bounce WHERE account = $1 AND address = ANY($13::text[]))
  SELECT seq FROM ins ORDER BY seq`);

/**
 * Appends events of one account in order, queues each for the account's enabled webhooks that
 * want its type, adds their statistics and clears the soft-bounce count of addresses delivered
 * to, in one statement (one round trip; the webhook lookup is an indexed probe, usually empty).
 * Suppressions and soft bounces (rare) follow as statements of their own. Returns the seqs in order.
 */
export async function writeEvents(c: Conn, account: string, events: NewEvent[]): Promise<number[]> {
  if (events.length === 0) return [];
  const fx = effectsOf(account, events);
  const { rows } = await runPrepared<{ seq: number }>(c, WRITE_EVENTS, [account, events.map((e) => e.at), events.map((e) => e.type), events.map((e) => e.messageId), events.map((e) => e.recipient),
      events.map((e) => JSON.stringify(e.data)), ...statValues(fx.stats), fx.delivered]);
  const seqs = rows.map((r) => r.seq);
  if (events.some((e) => SUPPRESSING.has(e.type))) await applySuppressions(c, account, events.map((e, i) => ({ ...e, seq: seqs[i]! })));
  // Circuit breakers: counted and tripped in this transaction; a trip's event goes to the same outbox.
  if (countsForBreakers(events)) {
    const tripped = await applyBreakers(c, account, events);
    if (tripped.length > 0) {
      await writeEvents(c, account, tripped.map((b) => ({ at: b.trippedAt, type: 'breaker.tripped', messageId: null, recipient: null, data: breakerEventData(b) })));
    }
  }
  return seqs;
}

/**
 * A CTE adding statistics as deltas (rolled up into stat_counter by stats-ops.ts): appending
 * never waits on another transaction's lock, where an upsert of a hot counter row (this hour's
 * deliveries to gmail.com) would serialize every node's commits on that row.
 */
export function STAT_DELTAS(first: number, account = '$1', where = ''): string {
  const p = (i: number) => `$${first + i}`;
  return `st AS (INSERT INTO stat_delta (account, grain, bucket, stream, key, metric, n)
    SELECT ${account}, g, b, s, k, m, n FROM unnest(${p(0)}::text[], ${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::bigint[])
      AS x (g, b, s, k, m, n)${where})`;
}

const statValues = (stats: StatDelta[]): unknown[] =>
  [stats.map((d) => d.grain), stats.map((d) => d.bucket), stats.map((d) => d.stream), stats.map((d) => d.key), stats.map((d) => d.metric), stats.map((d) => d.n)];

/** Event types that may suppress an address or count a soft bounce. */
const SUPPRESSING = new Set(['bounced', 'failed', 'complained', 'unsubscribed']);

const policies = new WeakMap<Conn, SoftBouncePolicy>();
/** The soft-bounce rule of a pooled connection (set when the pool opens it). */
export const setSoftBouncePolicy = (c: Conn, policy: SoftBouncePolicy): void => { policies.set(c, policy); };

async function applySuppressions(c: Conn, account: string, events: EffectEvent[]): Promise<void> {
  const fx = effectsOf(account, events);
  if (fx.suppressions.length > 0) await insertSuppressions(c, fx.suppressions, false);
  const policy = policies.get(c) ?? DEFAULT_SOFT_BOUNCE_POLICY;
  for (const b of fx.softBounces) {
    const { rows } = await c.query<{ count: number }>(COUNT_SOFT_BOUNCE.text, [account, b.address, b.at, b.at - policy.windowMs]);
    if (rows[0]!.count >= policy.count) await insertSuppressions(c, [softBounceSuppression(account, b, rows[0]!.count)], false);
  }
}

/** put's recipient rows: $1 message id, $2 addresses, $3 their domains, $4 first due time, $5 now. */
const RECIPIENT_ROWS = `
  INSERT INTO recipient (message_id, address, domain, state, next_attempt_at, updated_at, stream, account, received_at)
  SELECT $1, a, d, 'queued', $4, $5, m.stream, m.account, m.received_at
  FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS r (a, d, n) CROSS JOIN (SELECT stream, account, received_at FROM queued_message WHERE id = $1) AS m
  ORDER BY n`;
export const INSERT_RECIPIENTS = prepared('insert_recipients', RECIPIENT_ROWS);

/**
 * The same, plus each recipient's 'accepted' event ($6 account, $7 data) and its outbox rows, in
 * one statement: put() of client mail costs no extra round trip for its events.
 */
export const RECIPIENTS_ACCEPTED = prepared('recipients_accepted', `
  WITH rcpt AS (${RECIPIENT_ROWS}),
  ${ACCEPTED_EVENTS({ at: '$5', account: '$6::text', messageId: '$1', addresses: '$2', data: '$7' })},
  ${STAT_DELTAS(8, '$6')}
  SELECT count(*) FROM ins`);

/**
 * The CTEs `ins` (one 'accepted' event per address, in order) and `fan` (their webhook outbox
 * rows), for statements that insert recipients: each argument is an SQL expression (a parameter,
 * or a column of the CTE named in `from`, e.g. the message row just inserted).
 */
export function ACCEPTED_EVENTS(p: { at: string; account: string; messageId: string; addresses: string; data: string; from?: string }): string {
  return `ins AS (
    INSERT INTO event (at, account, type, message_id, recipient, data)
    SELECT ${p.at}, ${p.account}, 'accepted', ${p.messageId}, a, ${p.data}::jsonb FROM ${p.from ? `${p.from} CROSS JOIN ` : ''}unnest(${p.addresses}::text[]) WITH ORDINALITY AS r (a, n) ORDER BY n
    RETURNING seq, type, at),
  fan AS (
    INSERT INTO webhook_delivery (webhook_id, event_seq, next_attempt_at)
    SELECT w.id, ins.seq, ins.at FROM ins JOIN webhook w
      ON w.account = ${p.account} AND w.enabled AND (w.events = '[]'::jsonb OR w.events ? ins.type))`;
}

/** The values of RECIPIENTS_ACCEPTED after the recipient rows': account, event data, and the events' statistics. */
export function acceptedValues(account: string, recipients: string[], data: Record<string, unknown>, now: number): unknown[] {
  const fx = effectsOf(account, recipients.map((recipient) => ({ at: now, type: 'accepted', messageId: null, recipient, data })));
  return [account, JSON.stringify(data), ...statValues(fx.stats)];
}

/** Consecutive events of one account are written by one statement (a batch costs one round trip per account run). */
export async function appendEvents(c: Conn, events: Omit<MessageEvent, 'id' | 'seq'>[]): Promise<MessageEvent[]> {
  const out: MessageEvent[] = [];
  for (let i = 0; i < events.length;) {
    let j = i + 1;
    while (j < events.length && events[j]!.account === events[i]!.account) j++;
    const run = events.slice(i, j);
    const seqs = await writeEvents(c, run[0]!.account, run);
    run.forEach((e, k) => out.push(toEvent({ seq: seqs[k]!, at: e.at, account: e.account, type: e.type, message_id: e.messageId, recipient: e.recipient }, e.data)));
    i = j;
  }
  return out;
}

/** Old events (their pending webhook deliveries cascade), attempt logs, and quota windows that ended. */
export async function purgeEvents(c: Conn, before: number): Promise<number> {
  // Old events have the lowest seqs: walk the head of the log (the primary key) a chunk at a time
  // and stop at the first chunk holding a younger event. `WHERE at < $1` alone read the whole log
  // (10,000,000 rows) every hour when nothing was old enough (issue 14). Seqs are taken at insert,
  // so across nodes they follow `at` only roughly: an old event behind a younger one goes next time.
  let removed = 0;
  for (let after = 0; ;) {
    const { rows: [h] } = await c.query<{ first: string | null; last: string | null; all_old: boolean | null }>(
      `SELECT min(seq) AS first, max(seq) AS last, bool_and(at < $1) AS all_old
         FROM (SELECT seq, at FROM event WHERE seq > $2 ORDER BY seq LIMIT $3) head`, [before, after, PURGE_CHUNK]);
    if (!h || h.first === null) break;
    const r = await c.query('DELETE FROM event WHERE seq BETWEEN $1 AND $2 AND at < $3', [h.first, h.last, before]);
    removed += r.rowCount ?? 0;
    if (h.all_old !== true) break; // a young event: the rest of the log is younger
    after = Number(h.last);
  }
  await c.query('DELETE FROM webhook_attempt WHERE at < $1', [before]);
  await c.query('DELETE FROM usage_counter WHERE window_end < $1', [before]);
  await c.query('DELETE FROM breaker_counter WHERE bucket < $1', [before]);
  await c.query('DELETE FROM breaker_counter_shard WHERE bucket < $1', [before]);
  return removed;
}

/** Events read per step of a purge (a step deletes the old ones among them). */
const PURGE_CHUNK = 5000;

type EventRow = EventRowValues & { data: Record<string, unknown> };

export async function listEvents(c: Conn, q: EventQuery): Promise<MessageEvent[]> {
  const { rows } = await c.query<EventRow>(
    `SELECT * FROM event WHERE account = $1 AND seq > $2
       AND ($3::text[] IS NULL OR type = ANY($3::text[])) AND ($4::text IS NULL OR message_id = $4)
       AND ($5::text IS NULL OR lower(recipient) = lower($5)) AND ($6::bigint IS NULL OR at >= $6) AND ($7::bigint IS NULL OR at < $7)
     ORDER BY seq LIMIT $8`,
    [q.account, q.after ?? 0, q.types?.length ? q.types : null, q.messageId ?? null, q.recipient ?? null, q.since ?? null, q.until ?? null,
      eventLimit(q.limit)]);
  return rows.map((r) => toEvent(r, r.data));
}

const MESSAGE_META = prepared('message_meta', 'SELECT account, tags, metadata, stream FROM queued_message WHERE id = $1');

export async function getMessageMeta(c: Conn, id: string): Promise<MessageMeta | null> {
  const r = (await runPrepared<MessageRow>(c, MESSAGE_META, [id])).rows[0];
  return r ? toMeta(r) : null;
}

/**
 * Newest first; only mail relayed for a client (not DSNs, not inbound mail). The status filter
 * compares `r.state || ''`, which recipient_state cannot answer, so its lookup is by message
 * (recipient_message) or one hashed pass, whatever the statistics say: with statistics older than
 * a burst of 100,000 queued messages the planner probed recipient_state for every message and
 * status=queued ran into the 30 s statement timeout (bench/README.md "Dashboard pages").
 * status=delivering is driven by the recipients in flight (recipient_lease or recipient_state
 * holds them; the claims bound them) rather than the account's messages newest first, walked
 * until a page of them was found among the oldest (212 ms at 100,000 queued).
 */
const BY_STATUS = "AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM recipient r WHERE r.message_id = m.id AND r.state || '' = $7))";
/** The messages of the recipients in flight, looked up by key (an IN subquery was a hashed filter over every message of the account). */
const BY_DELIVERING = "AND $7::text = 'delivering' AND m.id = ANY(ARRAY(SELECT r.message_id FROM recipient r WHERE r.state = 'delivering' AND r.account = $1))";

export async function searchMessages(c: Conn, q: MessageSearch): Promise<MessageSummary[]> {
  if (countedState(q.status)) {
    // The counters for queued, deferred and held; delivering (not counted) from the ones in flight.
    const { rows: [waiting] } = await c.query<{ n: string | null }>(q.status === 'delivering'
      ? `SELECT count(*) AS n FROM (SELECT 1 FROM recipient WHERE state = 'delivering' AND account = $1 LIMIT 1) AS d`
      : `SELECT sum(n) AS n FROM (SELECT n FROM queue_count WHERE account = $1 AND state = $2
                                UNION ALL SELECT n FROM queue_count_delta WHERE account = $1 AND state = $2) AS c`,
    q.status === 'delivering' ? [q.account] : [q.account, q.status]);
    if (Number(waiting?.n ?? 0) <= 0) return [];
  }
  const { rows } = await c.query<MessageRow>(
    `SELECT id, account, mail_from, received_at, size, tags, metadata, stream, subject FROM queued_message m
     WHERE account = $1 AND route = 'relay' AND NOT is_bounce
       AND ($2::bigint IS NULL OR received_at >= $2)
       AND ($3::bigint IS NULL OR (received_at, id COLLATE "C") < ($3, $4::text COLLATE "C"))
       AND ($5::text IS NULL OR lower(mail_from) = lower($5))
       AND ($6::text IS NULL OR tags ? $6)
       AND ($10::text IS NULL OR strpos(lower(subject), lower($10)) > 0)
       ${q.status === 'delivering' ? BY_DELIVERING : BY_STATUS}
       AND ($8::text IS NULL OR m.id IN (SELECT r.message_id FROM recipient r WHERE lower(r.address) = lower($8)))
     ORDER BY received_at DESC, id COLLATE "C" DESC LIMIT $9`,
    [q.account, q.since ?? null, q.before?.receivedAt ?? null, q.before?.id ?? null, q.from ?? null, q.tag ?? null, q.status ?? null,
      q.recipient ?? null, searchLimit(q.limit), q.subject ?? null]);
  if (rows.length === 0) return [];
  const rcpts = await c.query<{ message_id: string; address: string; state: string }>(
    'SELECT message_id, address, state FROM recipient WHERE message_id = ANY($1::text[]) ORDER BY id', [rows.map((m) => m.id)]);
  const byMessage = new Map<string, { address: string; state: string }[]>();
  for (const r of rcpts.rows) byMessage.set(r.message_id, [...(byMessage.get(r.message_id) ?? []), { address: r.address, state: r.state }]);
  return rows.map((m) => ({
    id: m.id, account: m.account, mailFrom: m.mail_from, receivedAt: m.received_at, size: m.size, tags: m.tags, stream: m.stream, subject: m.subject ?? null,
    recipients: byMessage.get(m.id) ?? [],
  }));
}
