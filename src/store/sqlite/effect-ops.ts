// Applies the effects of events (store/event-effects.ts) in the executor's current transaction:
// statistics counters (one upsert per key: SQLite has a single writer, so a hot counter row costs
// no lock wait), suppressions, and the soft-bounce rule. Called by writeEvents, so every writer
// of events (put, recordResults, appendEvents) gets them in the same commit.
import { effectsOf, softBounceSuppression, DEFAULT_SOFT_BOUNCE_POLICY, type EffectEvent } from '../event-effects.js';
import { sqliteArgs } from '../sql/dialect.js';
import { COUNT_SOFT_BOUNCE } from '../sql/suppressions.js';
import type { SoftBouncePolicy } from '../suppression-store.js';
import { chunksOf, MultiRow, sql, type Db } from './rows.js';
import { insertSuppressions } from './suppression-ops.js';

const BUMP_STATS = new MultiRow('INSERT INTO stat_counter (account, grain, bucket, stream, key, metric, n) VALUES ', '(?, ?, ?, ?, ?, ?, ?)',
  ' ON CONFLICT (account, grain, bucket, stream, key, metric) DO UPDATE SET n = n + excluded.n');
const CLEAR_SOFT_BOUNCES = new MultiRow('DELETE FROM soft_bounce WHERE account = ? AND address IN (', '?', ')');

const policies = new WeakMap<Db, SoftBouncePolicy>();

/** The soft-bounce rule of this database connection (from the store's options). */
export const setSoftBouncePolicy = (db: Db, policy: SoftBouncePolicy): void => { policies.set(db, policy); };

/** `seqs`: the events' sequences, when not on the events (effectsOf). */
export function applyEventEffects(db: Db, account: string, events: readonly EffectEvent[], seqs?: readonly number[]): void {
  const fx = effectsOf(account, events, seqs);
  for (const part of chunksOf(fx.stats)) { // one upsert statement for the keys (distinct: aggregated) of up to 16 counters
    const args: unknown[] = [];
    for (const d of part) args.push(account, d.grain, d.bucket, d.stream, d.key, d.metric, d.n);
    BUMP_STATS.stmt(db, part.length).run(args);
  }
  if (fx.suppressions.length > 0) insertSuppressions(db, fx.suppressions, false);
  if (fx.softBounces.length > 0) {
    const policy = policies.get(db) ?? DEFAULT_SOFT_BOUNCE_POLICY;
    for (const b of fx.softBounces) {
      const row = sql(db, COUNT_SOFT_BOUNCE.sqlite).get(sqliteArgs([account, b.address, b.at, b.at - policy.windowMs])) as { count: number };
      if (row.count >= policy.count) insertSuppressions(db, [softBounceSuppression(account, b, row.count)], false);
    }
  }
  // A delivery clears the address's soft-bounce count: one statement for a job's recipients.
  for (const part of chunksOf(fx.delivered)) CLEAR_SOFT_BOUNCES.stmt(db, part.length).run(account, ...part);
}
