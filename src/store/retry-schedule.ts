// The retry schedule: a pure function from the configured schedule and the number of failed
// attempts to the delay before the next try (exponential backoff, capped, with jitter so that
// a destination's deferred mail does not come back all at once).

export interface RetrySchedule {
  /** Delay after the first failure, ms. */
  initial: number;
  /** Each further delay is the previous one times this (>= 1). */
  factor: number;
  /** Ceiling of a single delay before jitter, ms. */
  max: number;
  /** Spread as a fraction: the delay is multiplied by a value in [1 - jitter, 1 + jitter]. */
  jitter: number;
}

/**
 * Delay in ms before the next attempt after `attempts` failed attempts (values below 1 count as 1):
 * min(initial * factor^(attempts-1), max), then ±jitter. `random` returns [0, 1): 0.5 means no jitter.
 */
export function computeRetryDelayMs(schedule: RetrySchedule, attempts: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempts) || 1);
  const base = Math.min(schedule.initial * schedule.factor ** (n - 1), schedule.max);
  const spread = 1 + schedule.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base * spread));
}
