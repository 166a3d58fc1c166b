// The circuit breakers' part of the store interface (rules: breaker-rules.ts). Trips happen inside
// the stores, in the transaction that records the events; holding a scope's mail happens in
// claimDue; these are the operator's view and the resume.
import type { Breaker, BreakerQuery } from './breaker-rules.js';

export interface BreakerStore {
  /** Newest first; `open`: only tripped ones not resumed (true) or only resumed ones (false). */
  listBreakers(q: BreakerQuery): Promise<Breaker[]>;
  /**
   * Resumes an open breaker: the recipients it held are due now, and the event breaker.resumed
   * (with who and why) is written. null when there is no such open breaker.
   */
  resumeBreaker(id: number, by: string, reason: string, now: number): Promise<Breaker | null>;
}
