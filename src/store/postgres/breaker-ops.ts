// The circuit breakers on PostgreSQL (rules: ../breaker-rules.ts, shared SQL: ../sql/breakers.ts).
// applyBreakers runs in writeEvents' transaction on whichever node records the events: it adds
// the rolling counters (one upsert statement, rows in one sorted order so two nodes never
// deadlock) and trips a scope whose rate crossed its threshold. The trip is an insert guarded by
// breaker_open (unique on the open breaker of a scope): when two nodes cross at once, one insert
// wins and the other gets no row, so exactly one breaker.tripped event is written per crossing.
// Cost: counter rows of a busy scope are hot (every attempt of the account adds to this bucket's
// 'attempt' row), so commits of one account's results queue on that row lock for the length of a
// recordResults transaction; stats-ops.ts avoids that with append-only deltas, which would do here
// too at the price of folding before every sum.
import {
  breakerEffects, breakerEventData, breakerLimit, bucketMs, countersOf, crossingOf, DEFAULT_BREAKER_POLICY, sendingDomainOf, toBreaker,
  type Breaker, type BreakerCounter, type BreakerEvent, type BreakerPolicy, type BreakerQuery, type BreakerRow,
} from '../breaker-rules.js';
import { LIST, OPEN, RELEASE_HELD, RESUME, SUM_WINDOW, TRIP } from '../sql/breakers.js';
import type { Conn } from './rows.js';

const policies = new WeakMap<Conn, BreakerPolicy>();
/** The breakers' policy of a pooled connection (set when the pool opens it). */
export const setBreakerPolicy = (c: Conn, policy: BreakerPolicy): void => { policies.set(c, policy); };
export const breakerPolicyOf = (c: Conn): BreakerPolicy => policies.get(c) ?? DEFAULT_BREAKER_POLICY;

/** Whether any of these events adds to a breaker counter (most event batches are 'accepted' only). */
export const countsForBreakers = (events: readonly BreakerEvent[]): boolean => events.some((e) => countersOf(e.type, e.data).length > 0);

/** Counts the events of one account and trips what crossed; returns the breakers tripped now. */
export async function applyBreakers(c: Conn, account: string, events: readonly BreakerEvent[]): Promise<Breaker[]> {
  const policy = breakerPolicyOf(c);
  if (!policy.enabled) return [];
  const ids = [...new Set(events.map((e) => e.messageId).filter((id): id is string => id !== null))];
  const domains = new Map<string, string | null>();
  if (policy.scopes.includes('domain') && ids.length > 0) {
    const { rows } = await c.query<{ id: string; mail_from: string }>('SELECT id, mail_from FROM queued_message WHERE id = ANY($1::text[])', [ids]);
    for (const r of rows) domains.set(r.id, sendingDomainOf(r.mail_from) || null);
  }
  const { deltas, checks } = breakerEffects(policy, account, events, (id) => domains.get(id) ?? null);
  if (deltas.length === 0) return [];
  await c.query(`INSERT INTO breaker_counter (scope_type, scope_key, bucket, counter, n)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
                 ON CONFLICT (scope_type, scope_key, bucket, counter) DO UPDATE SET n = breaker_counter.n + excluded.n`,
  [deltas.map((d) => d.scopeType), deltas.map((d) => d.scopeKey), deltas.map((d) => d.bucket), deltas.map((d) => d.counter), deltas.map((d) => d.n)]);
  const now = Math.max(...events.map((e) => e.at));
  const tripped: Breaker[] = [];
  for (const check of checks) {
    const sums: Partial<Record<BreakerCounter, number>> = {};
    const args = [check.scope.type, check.scope.key, now - policy.windowMs + 1, bucketMs(policy.windowMs)];
    for (const r of (await c.query<{ counter: BreakerCounter; n: string | number }>(SUM_WINDOW.text, args)).rows) sums[r.counter] = Number(r.n);
    const x = crossingOf(policy, check.metrics, sums);
    if (!x) continue;
    const row = (await c.query<{ id: string | number }>(TRIP.text,
      [check.scope.type, check.scope.key, account, x.metric, x.rate, x.count, x.volume, x.threshold, policy.windowMs, now])).rows[0];
    if (!row) continue; // already open (maybe tripped by another node this instant)
    tripped.push({ id: Number(row.id), scope: check.scope, account, metric: x.metric, rate: x.rate, count: x.count, volume: x.volume, threshold: x.threshold,
      windowMs: policy.windowMs, trippedAt: now, resumedAt: null, resumedBy: null, resumeReason: null, held: 0 });
  }
  return tripped;
}

/** The open breakers (usually none). */
export async function openBreakers(c: Conn): Promise<Pick<Breaker, 'id' | 'scope'>[]> {
  const { rows } = await c.query<{ id: string | number; scope_type: Breaker['scope']['type']; scope_key: string }>(OPEN.text);
  return rows.map((r) => ({ id: Number(r.id), scope: { type: r.scope_type, key: r.scope_key } }));
}

/** Parks claimed groups' due recipients under open breakers: 'held', no due time, the breaker named. */
export async function holdGroups(c: Conn, held: { messageId: string; domain: string; breakerId: number }[], now: number): Promise<void> {
  if (held.length === 0) return;
  await c.query(`UPDATE recipient r SET state = 'held', next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, breaker_id = h.b, updated_at = $4
                 FROM unnest($1::text[], $2::text[], $3::bigint[]) AS h (m, d, b)
                 WHERE r.message_id = h.m AND r.domain = h.d
                   AND ((r.state IN ('queued', 'deferred') AND r.next_attempt_at <= $4) OR (r.state = 'delivering' AND r.lease_until < $4))`,
  [held.map((h) => h.messageId), held.map((h) => h.domain), held.map((h) => h.breakerId), now]);
}

export async function listBreakers(c: Conn, q: BreakerQuery): Promise<Breaker[]> {
  const { rows } = await c.query<BreakerRow>(LIST.text, [q.open === undefined ? null : q.open ? 1 : 0, q.account ?? null, breakerLimit(q.limit)]);
  return rows.map(toBreaker);
}

/** Resumes an open breaker and releases what it held; `emit` writes the breaker.resumed event in the same transaction. */
export async function resumeBreaker(c: Conn, id: number, by: string, reason: string, now: number,
  emit: (account: string, data: Record<string, unknown>) => Promise<unknown>): Promise<Breaker | null> {
  const row = (await c.query<BreakerRow>(RESUME.text, [id, now, by, reason])).rows[0];
  if (!row) return null;
  const released = (await c.query(RELEASE_HELD.text, [id, now])).rowCount ?? 0;
  const b = toBreaker(row);
  await emit(b.account, breakerEventData(b, released));
  return { ...b, held: 0 };
}
