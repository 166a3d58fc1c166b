// Owns the per-account budget of heavy API work (attack pass, thirtieth session): routes whose one
// request writes or reads many rows (webhook replay, bulk message actions, suppression add, import
// and export) hold the store's single SQLite writer for tens of milliseconds, so an account calling
// them in a loop would slow every tenant's acceptance and delivery. They are counted in rows, not
// requests (one replay of 10,000 events costs what 10,000 replays of one do), per account per
// minute in this process (per node: a cluster-wide count would cost a store write per request),
// with the mechanism of POST /v1/verify's budget (accounts/minute-budget.ts). The operator's CLI
// writes the store directly and is not counted.
//
// It also owns the cap on heavy reads in flight (HeavyReads, thirty-first session): listings,
// searches and statistics (routes marked heavyRead) read for tens to hundreds of milliseconds
// each, one at a time on SQLite (the database thread, or the heavy-read thread with
// storage.sqliteThread: main), a pool connection each on PostgreSQL, so one account calling them in parallel queued every other tenant's
// behind its own. An account has at most http.heavyReadsPerAccount of them in flight per node;
// one more is 429 rate_limited with Retry-After: 1 at once (nothing read). Counted in requests in
// flight, not per minute: a read's cost is its duration, which the cap bounds in parallel.
import type { Clock } from '../clock.js';
import { MinuteBudget } from '../accounts/minute-budget.js';
import { ApiError } from '../ingress/http/api-error.js';
import { errorBody } from './schemas.js';

export class HeavyWork {
  readonly #budget: MinuteBudget;
  constructor(readonly perMinute: number, clock: Clock) {
    this.#budget = new MinuteBudget(perMinute, clock);
  }

  /**
   * Charges `rows` before the work. More rows than the whole budget: 413 too_much_work naming the
   * most one request may do (split it); over what is left of the minute: 429 rate_limited with
   * Retry-After (the end of the window), charging nothing.
   */
  take(account: string, rows: number): void {
    if (rows > this.perMinute) {
      throw new ApiError(413, 'too_much_work', `The request would touch ${rows} rows; at most ${this.perMinute} per request and per minute (http.heavyWorkPerAccountPerMinute): split it`);
    }
    const charged = this.#budget.take(account, rows);
    if (!charged.ok) throw rateLimited(charged.retryAfterSeconds);
  }

  /** Before a read whose size is known only after it: 429 when the account's minute is used up. */
  check(account: string): void {
    const retryAfterSeconds = this.#budget.spent(account);
    if (retryAfterSeconds !== null) throw rateLimited(retryAfterSeconds);
  }

  /** Charges the rows of a read already done; it may run over the budget (the account then waits for the next minute). */
  charge(account: string, rows: number): void {
    this.#budget.charge(account, rows);
  }
}

const rateLimited = (retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limited', 'Too much bulk work for this account this minute, try again later', [], retryAfterSeconds);

/** The 413 and 429 of a counted route, for its `responses`. */
export const heavyResponses = {
  413: { description: 'more rows than http.heavyWorkPerAccountPerMinute allows in one request (too_much_work): split it', schema: errorBody },
  429: { description: 'the account\'s rows of bulk work for this minute are used up (http.heavyWorkPerAccountPerMinute, per node); Retry-After', schema: errorBody },
} as const;

/** Per account, the heavy reads in flight in this process, capped at `perAccount`. */
export class HeavyReads {
  readonly #inFlight = new Map<string, number>();
  constructor(readonly perAccount: number) {}

  /** Takes a slot of `account` for one read (429 rate_limited when it has none); call the function returned once the read is done. */
  begin(account: string): () => void {
    const n = this.#inFlight.get(account) ?? 0;
    if (n >= this.perAccount) {
      throw new ApiError(429, 'rate_limited', `Too many listings and statistics in flight for this account (at most ${this.perAccount}, http.heavyReadsPerAccount), try again later`, [], 1);
    }
    this.#inFlight.set(account, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inFlight.get(account) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(account);
      else this.#inFlight.set(account, left);
    };
  }

  /** Reads in flight for `account` (tests). */
  inFlight(account: string): number { return this.#inFlight.get(account) ?? 0; }
}

/** The 429 of a heavy read, for its `responses`. */
export const heavyReadResponses = {
  429: { description: 'the account has http.heavyReadsPerAccount listings, searches or statistics in flight on this node (rate_limited); Retry-After', schema: errorBody },
} as const;
