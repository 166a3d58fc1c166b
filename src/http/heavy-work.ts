// Owns the per-account budget of heavy API work (attack pass, thirtieth session): routes whose one
// request writes or reads many rows (webhook replay, bulk message actions, suppression add, import
// and export) hold the store's single SQLite writer for tens of milliseconds, so an account calling
// them in a loop would slow every tenant's acceptance and delivery. They are counted in rows, not
// requests (one replay of 10,000 events costs what 10,000 replays of one do), per account per
// minute in this process (per node: a cluster-wide count would cost a store write per request),
// with the mechanism of POST /v1/verify's budget (accounts/minute-budget.ts). The operator's CLI
// writes the store directly and is not counted.
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
