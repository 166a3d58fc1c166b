// Owns the deadline of each relay attempt: an attempt ends before its job's lease does. A job is
// claimed for delivery.leaseTime and its lease is never renewed; once it expires another node of a
// cluster may claim the message and deliver it again. A hostile MX can hold an attempt far longer
// (a body read a few KB at a time is never silent, so delivery.commandTimeout never fires; a reply
// to every command given just within commandTimeout), so every attempt gets a deadline: the job's
// leaseUntil less a margin to record its result (attemptDeadline). At the deadline the connection
// the attempt is using (connecting, in a command or in the body) is reset (destroyConnection), the
// attempt tries no other host, and every recipient not yet decided is deferred with
// DEADLINE_VERDICT (run-job.ts, attempt.ts).
// Cheap on the hot path: per attempt one small object (no AbortController: with its EventTarget it
// cost ~1 % of the program instructions of a message, bench/README.md twenty-ninth session) and a
// Set entry; one interval for all attempts sweeps for deadlines; no timer or listener per attempt.
// The scheduler's stop still travels as the AbortSignal it was.
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Clock } from '../clock.js';
import type { Verdict } from './classify.js';
import { destroyConnection } from './connection-pool.js';

/** At most this long is kept between an attempt's deadline and its lease's end, to record the result. */
export const RECORD_MARGIN_MAX_MS = 30_000;

/** When an attempt of a job leased until `leaseUntil` must end: a fifth of the lease before, at most RECORD_MARGIN_MAX_MS. */
export function attemptDeadline(leaseUntil: number, leaseTimeMs: number): number {
  return leaseUntil - Math.min(RECORD_MARGIN_MAX_MS, Math.floor(leaseTimeMs / 5));
}

/**
 * What an undecided recipient of a cut attempt gets: temporary, 4.4.2 (RFC 3463 "Bad connection":
 * established, but unable to complete the transaction because of time-out), retried under
 * delivery.retrySchedule.
 */
export const DEADLINE_VERDICT: Verdict = Object.freeze({
  kind: 'temporary', status: '4.4.2',
  reason: 'the attempt reached its deadline (its lease, delivery.leaseTime, was ending) before the mail server finished',
});

/** One attempt's deadline; `conn`: the connection it is using now (set by the pool and the attempt), reset when it passes. */
export class AttemptDeadline {
  passed = false;
  conn: SMTPConnection | null = null;
  constructor(readonly at: number) {}
}

export class AttemptDeadlines {
  readonly #live = new Set<AttemptDeadline>();
  #sweep: NodeJS.Timeout | null = null;

  /** `sweepMs`: how often deadlines are checked (an attempt ends at most this late). */
  constructor(private readonly clock: Clock, private readonly sweepMs: number) {}

  /** Sweep interval for a lease time: a quarter of the margin, between 20 ms and 1 s. */
  static sweepFor(leaseTimeMs: number): number {
    return Math.max(20, Math.min(1000, Math.floor(Math.min(RECORD_MARGIN_MAX_MS, leaseTimeMs / 5) / 4)));
  }

  /** Attempts in flight (tests). */
  get size(): number { return this.#live.size; }

  /** The deadline of one attempt, watched until end(). */
  begin(at: number): AttemptDeadline {
    const d = new AttemptDeadline(at);
    this.#live.add(d);
    if (this.#sweep === null) {
      this.#sweep = setInterval(() => this.#check(), this.sweepMs);
      this.#sweep.unref();
    }
    return d;
  }

  end(d: AttemptDeadline): void { this.#live.delete(d); }

  #check(): void {
    if (this.#live.size === 0) { // idle: stop sweeping until the next attempt (kept while attempts follow each other)
      clearInterval(this.#sweep!);
      this.#sweep = null;
      return;
    }
    const now = this.clock.now();
    for (const d of this.#live) {
      if (now < d.at) continue;
      this.#live.delete(d);
      d.passed = true;
      if (d.conn) destroyConnection(d.conn);
    }
  }
}
