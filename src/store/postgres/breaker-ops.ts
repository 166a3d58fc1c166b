// The circuit breakers on PostgreSQL (rules: ../breaker-rules.ts, shared SQL: ../sql/breakers.ts).
// applyBreakers runs in writeEvents' transaction on whichever node records the events: it adds
// the rolling counters (one upsert statement, rows in one sorted order so two nodes never
// deadlock) and trips a scope whose rate crossed its threshold. The trip is an insert guarded by
// breaker_open (unique on the open breaker of a scope): when two nodes cross at once, one insert
// wins and the other gets no row, so exactly one breaker.tripped event is written per crossing.
// Hot rows (issue 14): every attempt of an account adds to this bucket's 'attempt' row of the
// account and of its sending domain, so results of one account queued on that row lock for the
// length of a recordResults transaction, the commit's flush included (252 ms a call with one node,
// 712 ms with three: bench/README.md "Several nodes"). A result that only adds volume (no count of
// a watched rate: a delivery) when the scope's window already has its minimum volume and stays
// under every threshold with it cannot trip anything, whatever runs beside it (a rate's volume only
// grows, its count does not): it reads the window first, then adds to a shard of its own (1..16,
// by backend, in breaker_counter_shard) without waiting and checks nothing. Everything else
// (bounces, blocks, complaints, a window under its minimum volume or over a threshold) counts on
// breaker_counter's row and checks as before, one transaction at a time. Sums read both tables;
// compactStats folds past buckets' shards into breaker_counter (foldBreakerShards), so a sum reads
// at most 16 rows more per counter. breaker_counter keeps its key and upsert, so a node of the
// previous release keeps counting while its peers roll forward (its sums miss the shards' volume,
// which errs toward tripping). What a sharded
// delivery changes: a bounce counted beside it does not see its volume (not committed yet), so its
// rate is the one without that in-flight delivery, as if the bounce had come first.
import {
  breakerEffects, breakerEventData, breakerLimit, bucketMs, bucketOf, countersOf, crossingOf, DEFAULT_BREAKER_POLICY, RATE_OF, sendingDomainOf, toBreaker,
  type Breaker, type BreakerCheck, type BreakerCounter, type BreakerDelta, type BreakerEvent, type BreakerMetric, type BreakerPolicy, type BreakerQuery,
  type BreakerRow, type BreakerScope,
} from '../breaker-rules.js';
import { LIST, OPEN, RELEASE_HELD, RESUME, SUM_WINDOW, TRIP } from '../sql/breakers.js';

/** SUM_WINDOW over the shared rows and the shards (the same columns; the planner pushes the scope's filter into both). */
const SUM_WINDOW_SHARDED = SUM_WINDOW.text.replace(/FROM breaker_counter\b/,
  'FROM (SELECT scope_type, scope_key, bucket, counter, n FROM breaker_counter UNION ALL SELECT scope_type, scope_key, bucket, counter, n FROM breaker_counter_shard) AS counters');
if (SUM_WINDOW_SHARDED === SUM_WINDOW.text) throw new Error('breaker-ops: SUM_WINDOW no longer reads FROM breaker_counter');
/**
 * SUM_WINDOW_SHARDED for up to three scopes in one round trip ($1 the window's start, $2 the
 * bucket length, then a type and a key per scope, NULL for a missing one): a delivery checks its
 * account and its sending domain. Scalar parameters, not arrays: PostgreSQL estimates a constant
 * array's length but not a parameter's, so with arrays every custom plan looked cheaper than the
 * generic one and the statement was planned at every call (0.26 ms each, bench/README.md).
 */
const SCOPES_PER_READ = 3;
const SUM_WINDOWS = prepared('breaker_sum_windows', `SELECT s.t AS scope_type, s.k AS scope_key, w.counter, w.n
  FROM (VALUES ($3::text, $4::text), ($5::text, $6::text), ($7::text, $8::text)) AS s (t, k)
  CROSS JOIN LATERAL (${SUM_WINDOW_SHARDED.replace(/\$1/g, 's.t').replace(/\$2/g, 's.k').replace(/\$3/g, '$1').replace(/\$4/g, '$2')}) AS w
  WHERE s.t IS NOT NULL`);
/** The sending domain of one message (a result's events are one message's; named and scalar for the reason above). */
const MAIL_FROM_ONE = prepared('breaker_mail_from', 'SELECT id, mail_from FROM queued_message WHERE id = $1');
import { prepared, runPrepared, type Conn } from './rows.js';

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
    const { rows } = ids.length === 1
      ? await runPrepared<{ id: string; mail_from: string }>(c, MAIL_FROM_ONE, ids)
      : await c.query<{ id: string; mail_from: string }>('SELECT id, mail_from FROM queued_message WHERE id = ANY($1::text[])', [ids]);
    for (const r of rows) domains.set(r.id, sendingDomainOf(r.mail_from) || null);
  }
  const { deltas, checks } = breakerEffects(policy, account, events, (id) => domains.get(id) ?? null);
  if (deltas.length === 0) return [];
  const now = Math.max(...events.map((e) => e.at));
  if (await volumeOnlyAndSafe(c, policy, deltas, checks, now)) {
    await addCounters(c, deltas, true);
    return [];
  }
  await addCounters(c, deltas, false);
  const tripped: Breaker[] = [];
  const all = await windowSums(c, policy, checks.map((k) => k.scope), now);
  for (const [i, check] of checks.entries()) {
    const x = crossingOf(policy, check.metrics, all[i]!);
    if (!x) continue;
    const row = (await c.query<{ id: string | number }>(TRIP.text,
      [check.scope.type, check.scope.key, account, x.metric, x.rate, x.count, x.volume, x.threshold, policy.windowMs, now])).rows[0];
    if (!row) continue; // already open (maybe tripped by another node this instant)
    tripped.push({ id: Number(row.id), scope: check.scope, account, metric: x.metric, rate: x.rate, count: x.count, volume: x.volume, threshold: x.threshold,
      windowMs: policy.windowMs, trippedAt: now, resumedAt: null, resumedBy: null, resumeReason: null, held: 0 });
  }
  return tripped;
}

/** A shard of this backend's own (1..16): two results of one account in different backends do not wait on each other. */
const SHARDED = '1 + pg_backend_pid() % 16';

const ADD_SHARED = prepared('breaker_add_shared', `INSERT INTO breaker_counter (scope_type, scope_key, bucket, counter, n)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
  ON CONFLICT (scope_type, scope_key, bucket, counter) DO UPDATE SET n = breaker_counter.n + excluded.n`);
const ADD_SHARD = prepared('breaker_add_shard', `INSERT INTO breaker_counter_shard (scope_type, scope_key, bucket, counter, n, shard)
  SELECT *, ${SHARDED} FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
  ON CONFLICT (scope_type, scope_key, bucket, counter, shard) DO UPDATE SET n = breaker_counter_shard.n + excluded.n`);

/** Adds the deltas (sorted: one lock order for every writer) to the shared rows, or to this backend's shard. */
async function addCounters(c: Conn, deltas: readonly BreakerDelta[], sharded: boolean): Promise<void> {
  await runPrepared(c, sharded ? ADD_SHARD : ADD_SHARED, [deltas.map((d) => d.scopeType), deltas.map((d) => d.scopeKey), deltas.map((d) => d.bucket), deltas.map((d) => d.counter), deltas.map((d) => d.n)]);
}

type Sums = Partial<Record<BreakerCounter, number>>;
/** The scopes' counters in their windows (every shard), as committed now (plus this transaction's own), in the scopes' order; one statement. */
async function windowSums(c: Conn, policy: BreakerPolicy, scopes: readonly BreakerScope[], now: number): Promise<Sums[]> {
  const out = scopes.map((): Sums => ({}));
  if (scopes.length === 0) return out;
  const at = new Map(scopes.map((s, i) => [`${s.type}\0${s.key}`, i]));
  for (let from = 0; from < scopes.length; from += SCOPES_PER_READ) {
    const args: unknown[] = [now - policy.windowMs + 1, bucketMs(policy.windowMs)];
    for (let j = from; j < from + SCOPES_PER_READ; j++) args.push(scopes[j]?.type ?? null, scopes[j]?.key ?? null);
    for (const r of (await runPrepared<{ scope_type: string; scope_key: string; counter: BreakerCounter; n: string | number }>(c, SUM_WINDOWS, args)).rows) {
      const i = at.get(`${r.scope_type}\0${r.scope_key}`);
      if (i !== undefined) out[i]![r.counter] = Number(r.n);
    }
  }
  // a scope listed twice (never, checks are per scope) gets the same sums
  scopes.forEach((s, i) => { const j = at.get(`${s.type}\0${s.key}`)!; if (j !== i) out[i] = out[j]!; });
  return out;
}

/**
 * Whether these deltas can trip nothing, whatever other transactions add meanwhile: none adds to
 * the count of a watched rate, and in every checked scope each watched rate's volume already has
 * its minimum without them, and no rate crosses with them added. Volume only lowers a rate, so no
 * volume committed later can make these cross either; a count added later is checked by its own
 * transaction (breaker_counter, locked). Reads every checked scope's window in one statement (as the check would).
 */
async function volumeOnlyAndSafe(c: Conn, policy: BreakerPolicy, deltas: readonly BreakerDelta[], checks: readonly BreakerCheck[], now: number): Promise<boolean> {
  const watchedCounts = new Set<BreakerCounter>();
  for (const [metric, t] of Object.entries(policy.thresholds) as [BreakerMetric, number | undefined][]) if (t !== undefined) watchedCounts.add(RATE_OF[metric].count);
  if (deltas.some((d) => watchedCounts.has(d.counter))) return false;
  const all = await windowSums(c, policy, checks.map((k) => k.scope), now);
  for (const [i, check] of checks.entries()) {
    const sums = all[i]!;
    for (const metric of check.metrics) if ((sums[RATE_OF[metric].volume] ?? 0) < policy.minVolume) return false;
    const withOwn = { ...sums };
    for (const d of deltas) if (d.scopeType === check.scope.type && d.scopeKey === check.scope.key) withOwn[d.counter] = (withOwn[d.counter] ?? 0) + d.n;
    if (crossingOf(policy, check.metrics, withOwn)) return false;
  }
  return true;
}

/**
 * Folds the shards of buckets before the current one into breaker_counter (compactStats, in its transaction): the
 * current bucket's shards stay, so no delivery waits on a fold. Returns the rows folded.
 */
export async function foldBreakerShards(c: Conn, now: number): Promise<number> {
  const before = bucketOf(now, breakerPolicyOf(c).windowMs);
  const r = await c.query(`WITH moved AS (DELETE FROM breaker_counter_shard WHERE bucket < $1 RETURNING scope_type, scope_key, bucket, counter, n)
    INSERT INTO breaker_counter (scope_type, scope_key, bucket, counter, n)
    SELECT scope_type, scope_key, bucket, counter, sum(n) FROM moved GROUP BY scope_type, scope_key, bucket, counter
    ORDER BY scope_type, scope_key, bucket, counter
    ON CONFLICT (scope_type, scope_key, bucket, counter) DO UPDATE SET n = breaker_counter.n + excluded.n`, [before]);
  return r.rowCount ?? 0;
}

/** The open breakers (usually none). */
export async function openBreakers(c: Conn): Promise<Pick<Breaker, 'id' | 'scope'>[]> {
  const { rows } = await c.query<{ id: string | number; scope_type: Breaker['scope']['type']; scope_key: string }>(OPEN.text);
  return rows.map((r) => ({ id: Number(r.id), scope: { type: r.scope_type, key: r.scope_key } }));
}

/** Parks claimed groups' due recipients under open breakers: 'held', no due time, the breaker named. */
export async function holdGroups(c: Conn, held: { messageId: string; domain: string; breakerId: number }[], now: number): Promise<void> {
  if (held.length === 0) return;
  // SKIP LOCKED: a row another claimer is leasing or holding is its (the claim's walks only read).
  await c.query(`UPDATE recipient r SET state = 'held', next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, breaker_id = h.b, updated_at = $4
                 FROM (SELECT r2.id, h2.b FROM recipient r2 JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS h2 (m, d, b)
                         ON r2.message_id = h2.m AND r2.domain = h2.d
                       WHERE (r2.state IN ('queued', 'deferred') AND r2.next_attempt_at <= $4) OR (r2.state = 'delivering' AND r2.lease_until < $4)
                       FOR UPDATE OF r2 SKIP LOCKED) AS h
                 WHERE r.id = h.id`,
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
