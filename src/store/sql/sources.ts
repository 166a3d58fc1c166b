// The egress sources' statements (store/source-store.ts), shared by both stores (see dialect.ts).
// takeWarmup is one upsert whose RETURNING row says the message was counted: the conditional
// update never lets n pass the cap, whichever node asks.
import { shared } from './dialect.js';
import type { SourceState, StoredSource, WarmupCount } from '../source-store.js';

export const LIST_SOURCES = shared('SELECT * FROM egress_source ORDER BY name');
export const ADD_SOURCE = shared(`INSERT INTO egress_source (name, state, address, ehlo, pool, warmup_schedule, warmup_start, updated_at)
  VALUES ($1, 'active', $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING name`);
export const SET_SOURCE_STATE = shared(`INSERT INTO egress_source (name, state, updated_at) VALUES ($1, $2, $3)
  ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`);

/** $1 source, $2 provider, $3 day, $4 cap (at least 1). */
export const TAKE_WARMUP = shared(`INSERT INTO warmup_count (source, provider, day, n) VALUES ($1, $2, $3, 1)
  ON CONFLICT (source, provider, day) DO UPDATE SET n = warmup_count.n + 1 WHERE warmup_count.n < $4
  RETURNING n`);
export const READ_WARMUP = shared('SELECT source, provider, day, n FROM warmup_count WHERE day = $1 ORDER BY source, provider');
export const PURGE_WARMUP = shared('DELETE FROM warmup_count WHERE day < $1');

/** $1 owner, $2 message, $3 domain, $4 until, $5 now: like unclaimJobs, with a due time. */
export const POSTPONE_JOB = shared(`UPDATE recipient SET state = CASE WHEN attempts > 0 THEN 'deferred' ELSE 'queued' END,
    next_attempt_at = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5
  WHERE state = 'delivering' AND lease_owner = $1 AND message_id = $2 AND domain = $3`);

export interface SourceRow {
  name: string; state: string; address: string | null; ehlo: string | null; pool: string | null;
  warmup_schedule: string | null; warmup_start: string | null; updated_at: number | string;
}
export const toSource = (r: SourceRow): StoredSource => ({
  name: r.name, state: r.state as SourceState, address: r.address, ehlo: r.ehlo, pool: r.pool,
  warmupSchedule: r.warmup_schedule, warmupStart: r.warmup_start, updatedAt: Number(r.updated_at),
});
export interface WarmupRow { source: string; provider: string; day: number | string; n: number | string }
export const toWarmup = (r: WarmupRow): WarmupCount => ({ source: r.source, provider: r.provider, day: Number(r.day), n: Number(r.n) });
