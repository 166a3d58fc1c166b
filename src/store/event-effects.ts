// What an event does besides being logged, decided once for both stores (dialect-free): the
// statistics counters it adds to, the suppression it causes, and its part in the soft-bounce
// rule. Each store applies these in the transaction that writes the events, so a counter or a
// suppression can never disagree with the event log after a crash.
//
// Suppressions: a hard bounce and a complaint stop all mail to the address; an unsubscribe stops
// broadcast mail (or what its data.scope says); a soft bounce (a final failure whose cause may
// pass: mailbox full, expired after retries) counts towards the soft-bounce rule, and a delivery
// clears that count. A 'block' (the sender was refused: reputation, policy, authentication) never
// suppresses nor counts, whether it bounced at once or was the last failure of an expired message:
// the address is fine.
import type { SoftBouncePolicy, Suppression, SuppressionScope } from './suppression-store.js';
import { suppressionKey } from './suppression-store.js';

export interface EffectEvent {
  at: number; type: string; messageId: string | null; recipient: string | null; data: Record<string, unknown>;
  /** The store sequence, once inserted (names the cause of a suppression). */
  seq?: number;
}

/**
 * One counter to add to. Grains: 'hour' (bucket = the UTC hour, key ''), 'domain' (bucket = the
 * UTC day, key = the recipient domain), 'tag' (bucket = the UTC day, key = the tag).
 */
export type StatGrain = 'hour' | 'domain' | 'tag';
export interface StatDelta { grain: StatGrain; bucket: number; stream: string; key: string; metric: string; n: number }

export interface EventEffects {
  /** Aggregated and sorted by key (one lock order for every writer). */
  stats: StatDelta[];
  suppressions: Suppression[];
  /** Soft bounces to count (address lower-case), in event order. */
  softBounces: { address: string; at: number; messageId: string | null; detail: string | null; source: string | null }[];
  /** Addresses delivered to: their soft-bounce count is cleared. */
  delivered: string[];
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const DEFAULT_SOFT_BOUNCE_POLICY: SoftBouncePolicy = { count: 3, windowMs: 30 * 24 * HOUR_MS };

/** The metrics an event adds one to. */
export function metricsOf(type: string, data: Record<string, unknown>): string[] {
  switch (type) {
    case 'bounced': return [`bounced_${typeof data.bounceType === 'string' ? data.bounceType : 'soft'}`];
    case 'opened':
    case 'clicked': {
      // _unique: the first human fetch of a message by a recipient; _machine: the first machine one.
      const m: string[] = [type];
      if (data.unique === true) m.push(data.machine === true ? `${type}_machine` : `${type}_unique`);
      return m;
    }
    case 'accepted': case 'delivered': case 'deferred': case 'failed': case 'suppressed': case 'complained': case 'unsubscribed':
      return [type];
    default: return [];
  }
}

const domainOf = (recipient: string | null): string => {
  if (!recipient) return '';
  const at = recipient.lastIndexOf('@');
  return at < 0 ? '' : recipient.slice(at + 1).toLowerCase();
};

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/**
 * The effects of events of one account, written in one transaction. `seqs`: the events' store
 * sequences when they are not on the events themselves (writeEvents passes them alongside rather
 * than copying each event).
 */
export function effectsOf(account: string, events: readonly EffectEvent[], seqs?: readonly number[]): EventEffects {
  const counts = new Map<string, StatDelta>();
  const out: EventEffects = { stats: [], suppressions: [], softBounces: [], delivered: [] };
  const memo = new Map<string, StatsMemo>();
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    countStats(e, counts, memo);
    if (!e.recipient) continue;
    const type = e.type;
    const bounceType = type === 'bounced' ? e.data.bounceType : undefined;
    if (type === 'delivered') { out.delivered.push(suppressionKey(e.recipient)); continue; }
    if (type !== 'bounced' && type !== 'complained' && type !== 'unsubscribed' && type !== 'failed') continue; // no effect but the counters
    const address = suppressionKey(e.recipient);
    const seq = e.seq ?? seqs?.[i];
    const source = seq === undefined ? null : `ev_${seq}`;
    const suppress = (scope: SuppressionScope, reason: Suppression['reason'], detail: string | null) =>
      out.suppressions.push({ account, address, scope, reason, source, messageId: e.messageId, detail, createdAt: e.at });
    if (type === 'bounced' && bounceType === 'hard') suppress('all', 'hard-bounce', text(e.data.response));
    else if (type === 'complained') suppress('all', 'complaint', text(e.data.feedbackType) ?? 'abuse');
    else if (type === 'unsubscribed') suppress(e.data.scope === 'all' ? 'all' : 'broadcast', 'unsubscribe', text(e.data.method));
    else if ((type === 'bounced' && bounceType === 'soft') || (type === 'failed' && e.data.lastFailure !== 'block')) {
      out.softBounces.push({ address, at: e.at, messageId: e.messageId, detail: text(e.data.response), source });
    }
  }
  out.stats = [...counts.values()].sort(compareStat);
  return out;
}

/**
 * The counters the last event of a recipient domain added to, and what they depended on: an event
 * of the same type, data object, hour and day adds to the same ones (the events of one put or
 * result share their data object), so they are counted again without building their keys.
 */
interface StatsMemo { type: string; data: Record<string, unknown>; hour: number; day: number; deltas: StatDelta[] }

function countStats(e: EffectEvent, into: Map<string, StatDelta>, memo?: Map<string, StatsMemo>): void {
  const hour = Math.floor(e.at / HOUR_MS) * HOUR_MS;
  const day = Math.floor(e.at / DAY_MS) * DAY_MS;
  const domain = domainOf(e.recipient);
  const last = memo?.get(domain);
  if (last && last.type === e.type && last.data === e.data && last.hour === hour && last.day === day) {
    for (const d of last.deltas) d.n++;
    return;
  }
  const deltas: StatDelta[] = [];
  memo?.set(domain, { type: e.type, data: e.data, hour, day, deltas });
  const metrics = metricsOf(e.type, e.data);
  if (metrics.length === 0) return;
  const stream = text(e.data.stream) ?? 'transactional';
  // One array built by push: the spread of a Set, a literal [] and map()'s result had different
  // elements kinds, and the optimised code deoptimised on the other ("wrong map")
  const rows: [StatGrain, number, string][] = [['hour', hour, '']];
  if (domain) rows.push(['domain', day, domain]);
  const tags = e.data.tags;
  if (Array.isArray(tags)) {
    const first = rows.length;
    const seen = tags.length > 16 ? new Set<string>() : null; // a message has at most 10 (MAX_TAGS); a long list is not walked per tag
    for (const t of tags) {
      if (typeof t !== 'string' || t === '' || (seen ? seen.has(t) : hasKey(rows, first, t))) continue; // each tag once, first seen first
      seen?.add(t);
      rows.push(['tag', day, t]);
    }
  }
  for (const metric of metrics) {
    for (const [grain, bucket, key] of rows) {
      const id = `${grain}\u0000${bucket}\u0000${stream}\u0000${key}\u0000${metric}`;
      let d = into.get(id);
      if (d) d.n++;
      else into.set(id, d = { grain, bucket, stream, key, metric, n: 1 });
      deltas.push(d);
    }
  }
}

/** Whether rows[first..] has a row with this key (the few tags of one event). */
function hasKey(rows: readonly [StatGrain, number, string][], first: number, key: string): boolean {
  for (let i = first; i < rows.length; i++) if (rows[i]![2] === key) return true;
  return false;
}

const compareStat = (a: StatDelta, b: StatDelta): number =>
  cmp(a.grain, b.grain) || a.bucket - b.bucket || cmp(a.stream, b.stream) || cmp(a.key, b.key) || cmp(a.metric, b.metric);
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The suppression the soft-bounce rule adds once an address reached `count` consecutive soft bounces. */
export const softBounceSuppression = (account: string, b: EventEffects['softBounces'][number], count: number): Suppression => ({
  account, address: b.address, scope: 'all', reason: 'soft-bounce', source: b.source, messageId: b.messageId,
  detail: `${count} consecutive soft bounces${b.detail ? `; last: ${b.detail}` : ''}`, createdAt: b.at,
});
