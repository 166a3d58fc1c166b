// The circuit breakers' statements shared by both stores (see dialect.ts; the rules are in
// ../breaker-rules.ts). Array-taking statements (counter upserts, holding a claim's groups) differ
// per dialect and stay in sqlite/breaker-ops.ts and postgres/breaker-ops.ts.
import { shared } from './dialect.js';

/**
 * A scope's counters in its window: buckets from $3 (the window's start), and none before the
 * bucket after the scope's last resume ($4: the bucket length), so a resume starts a clean slate.
 */
export const SUM_WINDOW = shared(`SELECT counter, SUM(n) AS n FROM breaker_counter
  WHERE scope_type = $1 AND scope_key = $2 AND bucket >= $3
    AND bucket >= COALESCE((SELECT MAX(resumed_at) FROM breaker WHERE scope_type = $1 AND scope_key = $2) / $4 * $4 + $4, 0)
  GROUP BY counter`);

/** At most one open breaker per scope (breaker_open, a partial unique index): a second tripper gets no row. */
export const TRIP = shared(`INSERT INTO breaker (scope_type, scope_key, account, metric, rate, count, volume, threshold, window_ms, tripped_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (scope_type, scope_key) WHERE resumed_at IS NULL DO NOTHING
  RETURNING id`);

/** The open breakers: a handful at most, read at every claim (breaker_open). */
export const OPEN = shared('SELECT id, scope_type, scope_key FROM breaker WHERE resumed_at IS NULL');

export const LIST = shared(`SELECT b.*, CASE WHEN b.resumed_at IS NULL
    THEN (SELECT COUNT(*) FROM recipient r WHERE r.breaker_id = b.id AND r.state = 'held') ELSE 0 END AS held
  FROM breaker b
  WHERE (CAST($1 AS integer) IS NULL OR (b.resumed_at IS NULL) = (CAST($1 AS integer) = 1))
    AND (CAST($2 AS text) IS NULL OR b.account = $2 OR (b.scope_type = 'account' AND b.scope_key = $2))
  ORDER BY b.id DESC LIMIT $3`);

export const RESUME = shared(`UPDATE breaker SET resumed_at = $2, resumed_by = $3, resume_reason = $4
  WHERE id = $1 AND resumed_at IS NULL RETURNING *`);

/**
 * The recipients a resumed breaker held are due now; the time they were held is added to held_ms,
 * which the expiry deadline (delivery.maxQueueTime) does not count.
 */
export const RELEASE_HELD = shared(`UPDATE recipient SET state = 'queued', next_attempt_at = $2, held_ms = held_ms + ($2 - updated_at),
    breaker_id = NULL, updated_at = $2
  WHERE breaker_id = $1 AND state = 'held'`);

export const PURGE_COUNTERS = shared('DELETE FROM breaker_counter WHERE bucket < $1');
