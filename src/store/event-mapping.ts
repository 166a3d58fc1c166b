// Dialect-free rules of the transactional event log, shared by both stores: which messages
// produce events, the event a recorded outcome becomes (type and data), the message fields copied
// into every event, and which webhooks an event fans out to. The stores only write the rows.
import { classifyBounce } from '../events/bounce-classifier.js';
import { DEFAULT_ACCOUNT, type EventType, type MessageEvent, type MessageMeta } from './platform-store.js';
import type { NewMessage, RecipientOutcome } from './store.js';

export const DEFAULT_META: Readonly<MessageMeta> = Object.freeze({ account: DEFAULT_ACCOUNT, tags: [], metadata: {}, stream: 'transactional' });

/** The meta stored with a message: the given one, else the default account's (no tags). */
export const metaOf = (m: Pick<NewMessage, 'meta'>): MessageMeta => m.meta ?? DEFAULT_META;

/**
 * A DSN about a tenant's message quotes that message: it belongs to the same account (so only that
 * account can see it), unless the caller set its meta. It goes on the transactional stream whatever
 * its parent's: a bounce notice to the account's own sender is not campaign mail, so it is neither
 * behind the broadcast backlog nor held by the breaker its parent's bounces tripped.
 */
export const generatedMessage = (m: NewMessage, parent: MessageMeta): NewMessage =>
  (m.meta ? m : { ...m, meta: { account: parent.account, tags: [], metadata: {}, stream: 'transactional' } });

/** Only mail relayed for a client produces events: not DSNs Postlane generates, not inbound mail. */
export const hasEvents = (m: { route: 'relay' | 'local'; isBounce: boolean }): boolean => m.route === 'relay' && !m.isBounce;

/** What every event of a message carries: its tags, metadata and stream. */
export type MessageData = Pick<MessageMeta, 'tags' | 'metadata' | 'stream'>;
export const messageData = (meta: MessageMeta): MessageData =>
  ({ tags: meta.tags, metadata: meta.metadata, stream: meta.stream });

/**
 * The duration written in an outcome's attempt row: its own `durationMs`, else the job's
 * (RecordResultsOptions.durationMs) unless it was suppressed (never attempted); null: none.
 */
export const durationOf = (o: RecipientOutcome, jobMs: number | undefined): number | null =>
  o.durationMs ?? (o.status === 'suppressed' ? null : jobMs ?? null);

/** The event one recorded outcome becomes; `attempt` is the recipient's attempt count after it. */
export function outcomeEvent(o: RecipientOutcome, attempt: number, messageBase: MessageData): { type: EventType; data: Record<string, unknown> } {
  const host = o.host ?? null;
  if (o.status === 'delivered') {
    // The usual event: one literal per shape, the same keys in the same order as the spread made
    // (base's, the source, then these). The spread's clone and its four stores were runtime misses
    // once per message in the store's worker (helper ic18, --log-ic).
    const tls = o.tls ?? null;
    const { tags, metadata, stream } = messageBase;
    return { type: 'delivered', data: o.source
      ? { tags, metadata, stream, source: o.source, response: o.response, host, tls, attempt }
      : { tags, metadata, stream, response: o.response, host, tls, attempt } };
  }
  const base: Record<string, unknown> = o.source ? { ...messageBase, source: o.source } : messageBase; // the egress source (breakers' source scope reads it)
  switch (o.status) {
    case 'deferred':
      return { type: 'deferred', data: { ...base, response: o.response, host, nextAttemptAt: o.nextAttemptAt, attempt } };
    case 'bounced': {
      const c = classifyBounce(o.response);
      const data = { ...base, bounceType: c.bounceType, bounceCategory: c.category, code: c.code, enhanced: c.enhanced, response: o.response, host, attempt };
      return { type: 'bounced', data };
    }
    case 'expired': {
      // The class of the last failure: a message that expired refused as the sender's fault (a block)
      // says nothing against the address (event-effects.ts counts only the others as soft bounces).
      const c = classifyBounce(o.response);
      return { type: 'failed', data: { ...base, reason: 'expired', lastFailure: c.bounceType === 'block' ? 'block' : 'soft', bounceCategory: c.category, response: o.response, host, attempt } };
    }
    case 'suppressed':
      return { type: 'suppressed', data: { ...base, reason: o.suppression.reason, scope: o.suppression.scope, suppressedAt: o.suppression.createdAt, response: o.response } };
  }
}

/** A webhook subscribed to `events` receives `type` (an empty list means every type). */
export const wantsEvent = (events: readonly string[], type: string): boolean => events.length === 0 || events.includes(type);

/** Stable event id from the store sequence. */
export const eventId = (seq: number): string => `ev_${seq}`;
/** The sequence of an event id; null when malformed. */
export function eventSeq(id: string): number | null {
  const m = /^ev_(\d{1,15})$/.exec(id);
  return m ? Number(m[1]) : null;
}

export interface EventRowValues { seq: number; at: number; account: string; type: string; message_id: string | null; recipient: string | null }
export const toEvent = (r: EventRowValues, data: Record<string, unknown>): MessageEvent => ({
  id: eventId(r.seq), seq: r.seq, at: r.at, account: r.account, type: r.type as EventType, messageId: r.message_id, recipient: r.recipient, data,
});

/** listEvents page size: default 100, at most 1000. */
export const eventLimit = (limit: number | undefined): number => Math.max(1, Math.min(limit ?? 100, 1000));
/** searchMessages page size: default 50, at most 500. */
export const searchLimit = (limit: number | undefined): number => Math.max(1, Math.min(limit ?? 50, 500));
