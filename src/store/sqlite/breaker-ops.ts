// The circuit breakers in the SQLite store (rules: ../breaker-rules.ts, shared SQL: ../sql/breakers.ts).
// applyBreakers runs in writeEvents' transaction: it adds the events' rolling counters and trips
// the scopes whose rate crossed a threshold (the caller writes their breaker.tripped events).
// openBreakers is read by claimDue at every claim; holdGroup parks a claimed group's recipients
// ('held', naming the breaker) instead of leasing them.
import {
  breakerEffects, breakerEventData, breakerLimit, bucketMs, crossingOf, DEFAULT_BREAKER_POLICY, sendingDomainOf, toBreaker,
  type Breaker, type BreakerCounter, type BreakerEvent, type BreakerPolicy, type BreakerQuery, type BreakerRow,
} from '../breaker-rules.js';
import { LIST, OPEN, RELEASE_HELD, RESUME, SUM_WINDOW, TRIP } from '../sql/breakers.js';
import { all, chunksOf, MultiRow, run, sql, type Db, type Effects } from './rows.js';
import { newEvent, writeEvents } from './event-ops.js';

const BUMP_COUNTERS = new MultiRow('INSERT INTO breaker_counter (scope_type, scope_key, bucket, counter, n) VALUES ', '(?, ?, ?, ?, ?)',
  ' ON CONFLICT (scope_type, scope_key, bucket, counter) DO UPDATE SET n = n + excluded.n');

const policies = new WeakMap<Db, BreakerPolicy>();
/** The breakers' policy of this database connection (from the store's options: config breakers). */
export const setBreakerPolicy = (db: Db, policy: BreakerPolicy): void => { policies.set(db, policy); };
export const breakerPolicyOf = (db: Db): BreakerPolicy => policies.get(db) ?? DEFAULT_BREAKER_POLICY;

/** A message and its MAIL FROM, read by the caller in this transaction. */
export interface KnownSender { messageId: string; mailFrom: string }

/** Counts the events of one account and trips what crossed; returns the breakers tripped now. */
export function applyBreakers(db: Db, account: string, events: readonly BreakerEvent[], known?: KnownSender): Breaker[] {
  const policy = breakerPolicyOf(db);
  const domains = new Map<string, string | null>();
  if (known) domains.set(known.messageId, sendingDomainOf(known.mailFrom) || null);
  const domainOf = (id: string): string | null => {
    if (!domains.has(id)) {
      const row = sql(db, 'SELECT mail_from FROM queued_message WHERE id = ?').get(id) as { mail_from: string } | undefined;
      domains.set(id, row ? sendingDomainOf(row.mail_from) || null : null);
    }
    return domains.get(id)!;
  };
  const { deltas, checks } = breakerEffects(policy, account, events, domainOf);
  if (deltas.length === 0) return [];
  for (const part of chunksOf(deltas)) { // one upsert statement for up to 16 counters (distinct keys: aggregated)
    const args: unknown[] = [];
    for (const d of part) args.push(d.scopeType, d.scopeKey, d.bucket, d.counter, d.n);
    BUMP_COUNTERS.stmt(db, part.length).run(args);
  }
  const now = Math.max(...events.map((e) => e.at));
  const tripped: Breaker[] = [];
  for (const check of checks) {
    const sums: Partial<Record<BreakerCounter, number>> = {};
    const args = [check.scope.type, check.scope.key, now - policy.windowMs + 1, bucketMs(policy.windowMs)];
    for (const r of all<{ counter: BreakerCounter; n: number }>(db, SUM_WINDOW, args)) sums[r.counter] = r.n;
    const c = crossingOf(policy, check.metrics, sums);
    if (!c) continue;
    const row = all<{ id: number }>(db, TRIP, [check.scope.type, check.scope.key, account, c.metric, c.rate, c.count, c.volume, c.threshold, policy.windowMs, now])[0];
    if (!row) continue; // already open
    tripped.push({ id: row.id, scope: check.scope, account, metric: c.metric, rate: c.rate, count: c.count, volume: c.volume, threshold: c.threshold,
      windowMs: policy.windowMs, trippedAt: now, resumedAt: null, resumedBy: null, resumeReason: null, held: 0 });
  }
  return tripped;
}

/** The open breakers (usually none: then the claim costs nothing more). */
export function openBreakers(db: Db): Pick<Breaker, 'id' | 'scope'>[] {
  // pushed to, not map()'s array: its elements kind changes once the caller is optimised, and claimDue's
  // optimised code deoptimised on it ("wrong map", bench/README.md twenty-third session)
  const open: Pick<Breaker, 'id' | 'scope'>[] = [];
  for (const r of all<{ id: number; scope_type: Breaker['scope']['type']; scope_key: string }>(db, OPEN, [])) {
    open.push({ id: r.id, scope: { type: r.scope_type, key: r.scope_key } });
  }
  return open;
}

/** Parks a claimed group's due recipients under an open breaker: 'held', no due time, the breaker named. */
export function holdGroup(db: Db, messageId: string, domain: string, breakerId: number, now: number): number {
  return sql(db, `UPDATE recipient SET state = 'held', next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, breaker_id = @b, updated_at = @now
                  WHERE message_id = @m AND domain = @d
                    AND ((state IN ('queued', 'deferred') AND next_attempt_at <= @now) OR (state = 'delivering' AND lease_until < @now))`)
    .run({ b: breakerId, now, m: messageId, d: domain }).changes;
}

export const BREAKER_WRITES = {
  resumeBreaker(db: Db, _fx: Effects, id: number, by: string, reason: string, now: number): Breaker | null {
    const row = all<BreakerRow>(db, RESUME, [id, now, by, reason])[0];
    if (!row) return null;
    const released = run(db, RELEASE_HELD, [id, now]).changes;
    const b = toBreaker(row);
    writeEvents(db, b.account, [newEvent(now, b.account, 'breaker.resumed', null, null, breakerEventData(b, released))]);
    return { ...b, held: 0 };
  },
};

export const BREAKER_READS = {
  listBreakers(db: Db, q: BreakerQuery): Breaker[] {
    return all<BreakerRow>(db, LIST, [q.open === undefined ? null : q.open ? 1 : 0, q.account ?? null, breakerLimit(q.limit)]).map(toBreaker);
  },
};
