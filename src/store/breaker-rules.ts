// Circuit breakers, the dialect-free rules (issue 11): which rolling counters an event adds to, in
// which scopes (account, sending domain, egress source), and when a scope's rate crosses its
// threshold. Both stores apply them in the transaction that writes the events (like the statistics
// in event-effects.ts), so a counter never disagrees with the event log, and a trip is an insert
// guarded by a unique index on the open breaker of a scope: exactly one trip per crossing, on any
// number of nodes. Holding and releasing the scope's mail is the claim's and resume's job.
//
// Why own counters rather than the statistics' hour buckets: the statistics are per account and
// recipient domain, not per sending domain or source, and an hour bucket makes a 1 h window jump;
// here each scope keeps 48 buckets per window (30 min for the default 24 h), and a window starts
// no earlier than the scope's last resume, so an operator's resume is not undone by the very spike
// that tripped it.
import { classifyBounce } from '../events/bounce-classifier.js';

export type BreakerScopeType = 'account' | 'domain' | 'source';
export const BREAKER_SCOPE_TYPES: readonly BreakerScopeType[] = ['account', 'domain', 'source'];
export type BreakerMetric = 'complaint' | 'hard_bounce' | 'block' | 'deferral';
/** Counters kept per scope and bucket. attempt = delivered + deferred + bounced; final = delivered + bounced. */
export type BreakerCounter = 'attempt' | 'final' | 'delivered' | 'hard' | 'block' | 'deferred' | 'complained';

/** The numerator and denominator of each watched rate. */
export const RATE_OF: Readonly<Record<BreakerMetric, { count: BreakerCounter; volume: BreakerCounter }>> = {
  complaint: { count: 'complained', volume: 'delivered' },
  hard_bounce: { count: 'hard', volume: 'final' },
  block: { count: 'block', volume: 'attempt' },
  deferral: { count: 'deferred', volume: 'attempt' },
};

export interface BreakerPolicy {
  enabled: boolean;
  scopes: BreakerScopeType[];
  windowMs: number;
  minVolume: number;
  /** Fractions (0.003 = 0.3 %); a metric not listed is not watched. */
  thresholds: Partial<Record<BreakerMetric, number>>;
  pauseTransactional: boolean;
}

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = {
  enabled: true, scopes: ['account', 'domain'], windowMs: 24 * 3_600_000, minVolume: 200,
  thresholds: { complaint: 0.003, hard_bounce: 0.05, block: 0.1 }, pauseTransactional: false,
};

export interface BreakerScope { type: BreakerScopeType; key: string }

/** A breaker: open (tripped, not resumed) or a past one kept for its history. */
export interface Breaker {
  id: number;
  scope: BreakerScope;
  /** The account whose mail tripped it (its webhooks got the event). */
  account: string;
  metric: BreakerMetric;
  /** The rate that crossed the threshold, its count and volume in the window, the threshold (fractions). */
  rate: number; count: number; volume: number; threshold: number;
  windowMs: number;
  trippedAt: number;
  resumedAt: number | null; resumedBy: string | null; resumeReason: string | null;
  /** Recipients held by it now (open breakers only; 0 once resumed). */
  held: number;
}

export interface BreakerQuery { open?: boolean; account?: string; limit?: number }

export interface BreakerDelta { scopeType: BreakerScopeType; scopeKey: string; bucket: number; counter: BreakerCounter; n: number }
/** A scope and the rates to evaluate in it (those whose count or volume went up in this transaction). */
export interface BreakerCheck { scope: BreakerScope; metrics: BreakerMetric[] }

/** Buckets per window: fine enough that the window slides, few enough to sum at every bad event. */
const BUCKETS_PER_WINDOW = 48;
export const bucketMs = (windowMs: number): number => Math.max(60_000, Math.floor(windowMs / BUCKETS_PER_WINDOW));
export const bucketOf = (at: number, windowMs: number): number => Math.floor(at / bucketMs(windowMs)) * bucketMs(windowMs);

export interface BreakerEvent { at: number; type: string; messageId: string | null; data: Record<string, unknown> }

/** The counters one event adds to. */
export function countersOf(type: string, data: Record<string, unknown>): BreakerCounter[] {
  switch (type) {
    case 'delivered': return ['attempt', 'final', 'delivered'];
    case 'deferred': {
      const block = typeof data.response === 'string' && classifyBounce(data.response).bounceType === 'block';
      return block ? ['attempt', 'deferred', 'block'] : ['attempt', 'deferred'];
    }
    case 'bounced': {
      const extra: BreakerCounter[] = data.bounceType === 'hard' ? ['hard'] : data.bounceType === 'block' ? ['block'] : [];
      return ['attempt', 'final', ...extra];
    }
    case 'complained': return ['complained'];
    default: return [];
  }
}

/**
 * The rates a counter moves: its numerator's (the rate rises) and its denominator's (the minimum
 * volume may be reached by a delivery after the bounces: 4 bounces, then 2 deliveries, is 67 % of 6).
 */
const MOVES = new Map<BreakerCounter, BreakerMetric[]>();
for (const [m, r] of Object.entries(RATE_OF) as [BreakerMetric, { count: BreakerCounter; volume: BreakerCounter }][]) {
  for (const c of [r.count, r.volume]) MOVES.set(c, [...(MOVES.get(c) ?? []), m]);
}

/** The source of an attempt: the local address the delivery used, when the event says; else 'default'. */
const sourceOf = (data: Record<string, unknown>): string => (typeof data.source === 'string' && data.source !== '' ? data.source : 'default');

/**
 * The counter deltas of one account's events (aggregated, sorted: one lock order for every writer)
 * and the checks to run afterwards. `sendingDomain` names a message's MAIL FROM domain (null when
 * the message is gone: then that scope is not counted).
 */
export function breakerEffects(policy: BreakerPolicy, account: string, events: readonly BreakerEvent[],
  sendingDomain: (messageId: string) => string | null): { deltas: BreakerDelta[]; checks: BreakerCheck[] } {
  if (!policy.enabled) return { deltas: [], checks: [] };
  const deltas = new Map<string, BreakerDelta>();
  const checks = new Map<string, BreakerCheck>();
  // An event of the same type, data object, message and bucket as the one before adds to the same
  // counters and checks nothing new (a result's events share their data object): counted again
  // without building their keys.
  let last: { type: string; data: Record<string, unknown>; messageId: string | null; bucket: number; touched: BreakerDelta[] } | null = null;
  for (const e of events) {
    const bucket = bucketOf(e.at, policy.windowMs);
    if (last && last.type === e.type && last.data === e.data && last.messageId === e.messageId && last.bucket === bucket) {
      for (const d of last.touched) d.n++;
      continue;
    }
    const touched: BreakerDelta[] = [];
    last = { type: e.type, data: e.data, messageId: e.messageId, bucket, touched };
    const counters = countersOf(e.type, e.data);
    if (counters.length === 0) continue;
    const scopes: BreakerScope[] = [];
    for (const type of policy.scopes) {
      const key = type === 'account' ? account : type === 'source' ? sourceOf(e.data) : e.messageId ? sendingDomain(e.messageId) : null;
      if (key) scopes.push({ type, key });
    }
    for (const scope of scopes) {
      for (const counter of counters) {
        const id = `${scope.type}\u0000${scope.key}\u0000${bucket}\u0000${counter}`;
        let d = deltas.get(id);
        if (d) d.n++;
        else deltas.set(id, d = { scopeType: scope.type, scopeKey: scope.key, bucket, counter, n: 1 });
        touched.push(d);
        for (const metric of MOVES.get(counter) ?? []) {
          if (policy.thresholds[metric] === undefined) continue;
          const sid = `${scope.type}\u0000${scope.key}`;
          const c = checks.get(sid) ?? { scope, metrics: [] };
          if (!c.metrics.includes(metric)) c.metrics.push(metric);
          checks.set(sid, c);
        }
      }
    }
  }
  const sorted = [...deltas.values()].sort((a, b) => cmp(a.scopeType, b.scopeType) || cmp(a.scopeKey, b.scopeKey) || a.bucket - b.bucket || cmp(a.counter, b.counter));
  return { deltas: sorted, checks: [...checks.values()] };
}

export interface Crossing { metric: BreakerMetric; rate: number; count: number; volume: number; threshold: number }

/** The first of `metrics` whose rate in the window's sums crosses its threshold (at least minVolume). */
export function crossingOf(policy: BreakerPolicy, metrics: readonly BreakerMetric[], sums: Partial<Record<BreakerCounter, number>>): Crossing | null {
  for (const metric of metrics) {
    const threshold = policy.thresholds[metric];
    if (threshold === undefined) continue;
    const { count: c, volume: v } = RATE_OF[metric];
    const count = sums[c] ?? 0;
    const volume = sums[v] ?? 0;
    if (volume < policy.minVolume || volume === 0) continue;
    const rate = count / volume;
    if (rate >= threshold) return { metric, rate, count, volume, threshold };
  }
  return null;
}

/** The data of a breaker.tripped / breaker.resumed event (webhook payload; fields only ever added). */
export const breakerEventData = (b: Omit<Breaker, 'held'>, held?: number): Record<string, unknown> => ({
  breakerId: b.id, scope: b.scope.type, scopeKey: b.scope.key, metric: b.metric,
  rate: b.rate, count: b.count, volume: b.volume, threshold: b.threshold, windowMs: b.windowMs, trippedAt: b.trippedAt,
  ...(b.resumedAt !== null ? { resumedAt: b.resumedAt, resumedBy: b.resumedBy, reason: b.resumeReason } : {}),
  ...(held !== undefined ? { released: held } : {}),
});

/** Whether an open breaker holds this claim's message: broadcast (or all, with pauseTransactional) of its scope. */
export function holdingBreaker(open: readonly Pick<Breaker, 'id' | 'scope'>[], policy: Pick<BreakerPolicy, 'pauseTransactional'>,
  m: { account: string; stream: string; sendingDomain: string; source?: string }): number | null {
  if (open.length === 0 || (m.stream !== 'broadcast' && !policy.pauseTransactional)) return null;
  for (const b of open) {
    const key = b.scope.type === 'account' ? m.account : b.scope.type === 'domain' ? m.sendingDomain : (m.source ?? 'default');
    if (b.scope.key === key) return b.id;
  }
  return null;
}

/** The MAIL FROM domain, lower-case ('' for the null sender). */
export const sendingDomainOf = (mailFrom: string): string => {
  const at = mailFrom.lastIndexOf('@');
  return at < 0 ? '' : mailFrom.slice(at + 1).toLowerCase();
};

export interface BreakerRow {
  id: number | string; scope_type: string; scope_key: string; account: string; metric: string;
  rate: number; count: number | string; volume: number | string; threshold: number; window_ms: number | string; tripped_at: number | string;
  resumed_at: number | string | null; resumed_by: string | null; resume_reason: string | null; held?: number | string | null;
}

export const toBreaker = (r: BreakerRow): Breaker => ({
  id: Number(r.id), scope: { type: r.scope_type as BreakerScopeType, key: r.scope_key }, account: r.account, metric: r.metric as BreakerMetric,
  rate: Number(r.rate), count: Number(r.count), volume: Number(r.volume), threshold: Number(r.threshold), windowMs: Number(r.window_ms),
  trippedAt: Number(r.tripped_at), resumedAt: r.resumed_at === null ? null : Number(r.resumed_at), resumedBy: r.resumed_by,
  resumeReason: r.resume_reason, held: Number(r.held ?? 0),
});

export const breakerLimit = (limit: number | undefined): number => Math.max(1, Math.min(limit ?? 100, 1000));

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
