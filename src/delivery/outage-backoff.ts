// Owns the retry timing while the queue store cannot be reached: a capped exponential backoff
// (initial, 2×, 4× … max) and the outage's start, so the scheduler logs `delivery.paused` once
// when an outage begins and `delivery.resumed` once when it ends, instead of a line per poll.
// Pure: time comes from the injected clock; the caller owns the timers.
import type { Clock } from '../clock.js';

export interface BackoffLimits {
  /** Delay after the first failure. */
  initialMs: number;
  /** Largest delay: how late, at most, a retry notices that the store is back. */
  maxMs: number;
}

/** The n-th consecutive failure (1-based) waits initial × 2^(n-1), capped at max. */
export function backoffDelayMs(limits: BackoffLimits, failures: number): number {
  if (failures < 1) return 0;
  return Math.min(limits.maxMs, limits.initialMs * 2 ** Math.min(failures - 1, 30));
}

export interface OutageEnd { downMs: number; failures: number }

export class OutageBackoff {
  #failures = 0;
  #since: number | null = null;

  constructor(private readonly limits: BackoffLimits, private readonly clock: Clock) {}

  /** True between a failure and the next success. */
  get paused(): boolean { return this.#since !== null; }

  /** A failed call: how long to wait before the next one, and whether this failure began an outage. */
  failed(): { delayMs: number; began: boolean } {
    const began = this.#since === null;
    if (began) this.#since = this.clock.now();
    this.#failures++;
    return { delayMs: backoffDelayMs(this.limits, this.#failures), began };
  }

  /** A successful call: the outage it ended (length, failed calls), or null if there was none. */
  succeeded(): OutageEnd | null {
    if (this.#since === null) return null;
    const end = { downMs: this.clock.now() - this.#since, failures: this.#failures };
    this.#since = null;
    this.#failures = 0;
    return end;
  }
}
