// The executor's event-log operations. writeEvents is called by put/recordResults inside their
// savepoint (the transactional outbox: an event commits with the state change it reports, or not
// at all) and fans each event out to the outbox of the account's enabled webhooks that want it.
// Reads (listEvents, getMessageMeta, searchMessages) always filter by account.
import { countedState } from '../sql/queue-overview.js';
import { eventLimit, messageData, searchLimit, toEvent, wantsEvent, type EventRowValues } from '../event-mapping.js';
import type { EventQuery, MessageEvent, MessageMeta, MessageSearch, MessageSummary } from '../platform-store.js';
import { applyEventEffects } from './effect-ops.js';
import { applyBreakers, type KnownSender } from './breaker-ops.js';
import { breakerEventData } from '../breaker-rules.js';
import { chunksOf, MultiRow, sql, toMeta, type Db, type Effects, type MessageRow } from './rows.js';

/**
 * The recipient filter of searchMessages, present only when a recipient is given: the messages of
 * that address come from recipient_address (v20), not from a probe of every message of the account
 * (the search then writes `+account`, so the planner does not walk queued_message_account instead).
 */
const BY_RECIPIENT = 'AND m.id IN (SELECT r.message_id FROM recipient r INDEXED BY recipient_address WHERE lower(r.address) = lower(@rcpt))';
/**
 * status=delivering is driven by the recipients in flight (recipient_lease holds only those): the
 * claims bound them, where the account's messages newest first would be walked until a page of
 * them is found, and they are the oldest (124 ms at 100,000 queued: bench/README.md "Dashboard pages").
 */
const BY_DELIVERING = "AND m.id IN (SELECT r.message_id FROM recipient r INDEXED BY recipient_lease WHERE r.state = 'delivering' AND r.account = @account)";

export interface NewEvent { at: number; account: string; type: string; messageId: string | null; recipient: string | null; data: Record<string, unknown> }

/**
 * A NewEvent, its fields always in this order: events built as literals in two orders (and by a
 * spread) gave writeEvents, effectsOf and breakerEffects two shapes to read.
 */
export const newEvent = (at: number, account: string, type: string, messageId: string | null, recipient: string | null,
  data: Record<string, unknown>): NewEvent => ({ at, account, type, messageId, recipient, data });
interface Hook { id: string; events: string[] }

/**
 * The account's enabled webhooks (one indexed lookup; usually none). Pushed to, not rows.map(): map()'s
 * array is packed or holey depending on whether its caller runs optimised, and writeEvents' optimised
 * code deoptimised on the other kind ("wrong map", bench/README.md twenty-third session).
 */
function webhooksOf(db: Db, account: string): Hook[] {
  const rows = sql(db, 'SELECT id, events FROM webhook WHERE account = ? AND enabled = 1').all(account) as { id: string; events: string }[];
  const hooks: Hook[] = [];
  for (const r of rows) hooks.push({ id: r.id, events: JSON.parse(r.events) as string[] });
  return hooks;
}

/** Events inserted by one statement (up to ROWS_PER_STATEMENT). */
const INSERT_EVENTS = new MultiRow('INSERT INTO event (at, account, type, message_id, recipient, data) VALUES ', '(?, ?, ?, ?, ?, ?)');

/**
 * Appends events of one account in order and queues them for its webhooks; returns their seqs.
 * `known`: a message whose MAIL FROM the caller has just read (the breakers' sending-domain scope
 * then reads no row for it).
 */
export function writeEvents(db: Db, account: string, events: NewEvent[], known?: KnownSender): number[] {
  if (events.length === 0) return [];
  const hooks = webhooksOf(db, account);
  const seqs: number[] = [];
  let lastData: Record<string, unknown> | null = null;
  let lastJson = '';
  for (const part of chunksOf(events)) {
    const args: unknown[] = [];
    for (const e of part) {
      if (e.data !== lastData) { lastData = e.data; lastJson = JSON.stringify(e.data); } // one serialization per shared data object
      args.push(e.at, account, e.type, e.messageId, e.recipient, lastJson);
    }
    // One statement's rows take consecutive seqs in VALUES order (AUTOINCREMENT, the only writer
    // inside this transaction; no trigger inserts events): the last one's is the statement's rowid.
    const last = Number(INSERT_EVENTS.stmt(db, part.length).run(args).lastInsertRowid);
    for (let k = 0; k < part.length; k++) seqs.push(last - part.length + 1 + k);
  }
  if (hooks.length > 0) {
    const outbox = sql(db, 'INSERT INTO webhook_delivery (webhook_id, event_seq, next_attempt_at) VALUES (?, ?, ?)');
    events.forEach((e, i) => { for (const h of hooks) if (wantsEvent(h.events, e.type)) outbox.run(h.id, seqs[i]!, e.at); });
  }
  applyEventEffects(db, account, events, seqs);
  // Circuit breakers: counted and tripped in this commit; a trip's event goes to the same outbox.
  const tripped = applyBreakers(db, account, events, known);
  if (tripped.length > 0) {
    const trips: NewEvent[] = [];
    for (const b of tripped) trips.push(newEvent(b.trippedAt, account, 'breaker.tripped', null, null, breakerEventData(b)));
    writeEvents(db, account, trips);
  }
  return seqs;
}

/** The 'accepted' event of each recipient of a message just stored. */
export function writeAccepted(db: Db, messageId: string, recipients: string[], meta: MessageMeta, now: number): void {
  const data = messageData(meta);
  // pushed to, not recipients.map(): one elements kind for every events array (effectsOf and
  // breakerEffects deoptimised on map()'s, "wrong map")
  const events: NewEvent[] = [];
  for (const recipient of recipients) events.push(newEvent(now, meta.account, 'accepted', messageId, recipient, data));
  writeEvents(db, meta.account, events);
}

/** Events read per step of a purge (a step deletes the old ones among them). */
const PURGE_CHUNK = 5000;

export const EVENT_WRITES = {
  /** Consecutive events of one account are written together (their statistics aggregated once). */
  appendEvents(db: Db, _fx: Effects, events: Omit<MessageEvent, 'id' | 'seq'>[]): MessageEvent[] {
    const out: MessageEvent[] = [];
    for (let i = 0; i < events.length;) {
      let j = i + 1;
      while (j < events.length && events[j]!.account === events[i]!.account) j++;
      const run = events.slice(i, j);
      const seqs = writeEvents(db, run[0]!.account, run);
      run.forEach((e, k) => out.push(toEvent({ seq: seqs[k]!, at: e.at, account: e.account, type: e.type, message_id: e.messageId, recipient: e.recipient }, e.data)));
      i = j;
    }
    return out;
  },

  /** Old events (their pending webhook deliveries cascade), attempt logs, and quota windows that ended. */
  purgeEvents(db: Db, _fx: Effects, before: number): number {
    // Old events have the lowest seqs: walk the head of the log (the primary key) a chunk at a time
    // and stop at the first chunk holding a younger event. `WHERE at < ?` alone read the whole log
    // (10,000,000 rows) every hour when nothing was old enough (issue 14).
    const head = sql(db, 'SELECT min(seq) AS first, max(seq) AS last, min(at < ?) AS allOld FROM (SELECT seq, at FROM event WHERE seq > ? ORDER BY seq LIMIT ?)');
    const chunk = sql(db, 'DELETE FROM event WHERE seq BETWEEN ? AND ? AND at < ?');
    let removed = 0;
    for (let after = 0; ;) {
      const h = head.get(before, after, PURGE_CHUNK) as { first: number | null; last: number | null; allOld: number | null };
      if (h.first === null) break;
      removed += chunk.run(h.first, h.last, before).changes;
      if (h.allOld !== 1) break; // a young event: the rest of the log is younger
      after = h.last!;
    }
    sql(db, 'DELETE FROM webhook_attempt WHERE at < ?').run(before);
    sql(db, 'DELETE FROM usage_counter WHERE window_end < ?').run(before);
    sql(db, 'DELETE FROM breaker_counter WHERE bucket < ?').run(before);
    return removed;
  },
};

type EventRow = EventRowValues & { data: string };
const mapEvent = (r: EventRow) => toEvent(r, JSON.parse(r.data) as Record<string, unknown>);

type SummaryRow = Pick<MessageRow, 'id' | 'account' | 'mail_from' | 'received_at' | 'size' | 'tags' | 'metadata' | 'stream'> & { subject?: string | null };

export const EVENT_READS = {
  listEvents(db: Db, q: EventQuery): MessageEvent[] {
    // A message's history walks event_message; everything else the account's events in seq order.
    const scope = q.messageId === undefined ? 'WHERE account = @account' : 'INDEXED BY event_message WHERE message_id = @messageId AND account = @account';
    const rows = sql(db, `SELECT * FROM event ${scope} AND seq > @after
                            AND (@types IS NULL OR type IN (SELECT value FROM json_each(@types)))
                            AND (@recipient IS NULL OR lower(recipient) = lower(@recipient))
                            AND (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
                          ORDER BY seq LIMIT @limit`)
      .all({
        account: q.account, after: q.after ?? 0, types: q.types?.length ? JSON.stringify(q.types) : null,
        ...(q.messageId === undefined ? {} : { messageId: q.messageId }), recipient: q.recipient ?? null, since: q.since ?? null, until: q.until ?? null, limit: eventLimit(q.limit),
      }) as EventRow[];
    return rows.map(mapEvent);
  },

  getMessageMeta(db: Db, id: string): MessageMeta | null {
    const r = sql(db, 'SELECT account, tags, metadata, stream FROM queued_message WHERE id = ?').get(id) as SummaryRow | undefined;
    return r ? toMeta(r) : null;
  },

  /**
   * Newest first; only mail relayed for a client (not DSNs, not inbound mail). A recipient search
   * is its own statement (BY_RECIPIENT), driven by the messages of that address; so is
   * status=delivering (BY_DELIVERING), driven by the recipients in flight. The status
   * filter names recipient_message: without ANALYZE statistics the planner took recipient_state
   * for status=, reading every recipient in that state per message (108 ms at 3,000 queued, 0.9 ms now).
   */
  searchMessages(db: Db, q: MessageSearch): MessageSummary[] {
    if (countedState(q.status) && !hasWaiting(db, q.account, q.status)) return [];
    const delivering = q.status === 'delivering';
    const rows = sql(db, `SELECT id, account, mail_from, received_at, size, tags, metadata, stream, subject FROM queued_message m
                          WHERE ${q.recipient === undefined && !delivering ? '' : '+'}account = @account AND route = 'relay' AND is_bounce = 0
                            AND (@since IS NULL OR received_at >= @since)
                            AND (@beforeAt IS NULL OR received_at < @beforeAt OR (received_at = @beforeAt AND id < @beforeId))
                            AND (@from IS NULL OR lower(mail_from) = lower(@from))
                            AND (@subject IS NULL OR instr(lower(subject), lower(@subject)) > 0)
                            AND (@tag IS NULL OR EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = @tag))
                            ${delivering ? BY_DELIVERING : 'AND (@status IS NULL OR EXISTS (SELECT 1 FROM recipient r INDEXED BY recipient_message WHERE r.message_id = m.id AND r.state = @status))'}
                            ${q.recipient === undefined ? '' : BY_RECIPIENT}
                          ORDER BY received_at DESC, id DESC LIMIT @limit`)
      .all({
        account: q.account, since: q.since ?? null, beforeAt: q.before?.receivedAt ?? null, beforeId: q.before?.id ?? null,
        from: q.from ?? null, tag: q.tag ?? null, ...(delivering ? {} : { status: q.status ?? null }), ...(q.recipient === undefined ? {} : { rcpt: q.recipient }), subject: q.subject ?? null, limit: searchLimit(q.limit),
      }) as SummaryRow[];
    const rcpts = sql(db, 'SELECT address, state FROM recipient WHERE message_id = ? ORDER BY id');
    return rows.map((m) => {
      const meta = toMeta(m);
      return {
        id: m.id, account: m.account, mailFrom: m.mail_from, receivedAt: m.received_at, size: m.size, tags: meta.tags, stream: meta.stream, subject: m.subject ?? null,
        recipients: rcpts.all(m.id) as { address: string; state: string }[],
      };
    });
  },
};

/** Whether the account has a recipient in waiting `state`: from queue_count, or for delivering (not counted) from the ones in flight. */
const hasWaiting = (db: Db, account: string, state: string): boolean => (state === 'delivering'
  ? sql(db, "SELECT 1 FROM recipient WHERE state = 'delivering' AND account = ? LIMIT 1").get(account)
  : sql(db, 'SELECT 1 FROM queue_count WHERE account = ? AND state = ? AND n > 0 LIMIT 1').get(account, state)) !== undefined;
