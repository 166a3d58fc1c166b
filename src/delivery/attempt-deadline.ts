// Owns the deadline of each relay attempt: an attempt ends before its job's lease does. A job is
// claimed for delivery.leaseTime and its lease is never renewed; once it expires another node of a
// cluster may claim the message and deliver it again. A hostile MX can hold an attempt far longer
// (a body read a few bytes a second is never silent, so delivery.commandTimeout never fires; a reply
// to every command given just within commandTimeout), so every attempt gets a deadline: the job's
// leaseUntil less a margin to record its result (attemptDeadline). At the deadline its signal is
// aborted with ATTEMPT_DEADLINE as the reason: the SMTP session is destroyed (connection-pool.ts,
// never reused), and every recipient not yet decided is deferred with that verdict (run-job.ts).
// Cheap on the hot path: per attempt an AbortController (the signal passed down, which also carries
// the scheduler's stop) and a Set entry; one interval for all attempts sweeps for deadlines, and one
// listener per stop signal passes a stop on. No timer and no listener per attempt.
import type { Clock } from '../clock.js';
import { LocalFailure } from './classify.js';

/** At most this long is kept between an attempt's deadline and its lease's end, to record the result. */
export const RECORD_MARGIN_MAX_MS = 30_000;

/** When an attempt of a job leased until `leaseUntil` must end: a fifth of the lease before, at most RECORD_MARGIN_MAX_MS. */
export function attemptDeadline(leaseUntil: number, leaseTimeMs: number): number {
  return leaseUntil - Math.min(RECORD_MARGIN_MAX_MS, Math.floor(leaseTimeMs / 5));
}

/**
 * The reason an attempt's signal carries at its deadline; what it makes of each undecided recipient
 * (classifyError): temporary, 4.4.2 (RFC 3463 "Bad connection": established, but unable to complete
 * the transaction because of time-out), retried under delivery.retrySchedule.
 */
export const ATTEMPT_DEADLINE = new LocalFailure('temporary', '4.4.2',
  'the attempt reached its deadline (its lease, delivery.leaseTime, was ending) before the mail server finished');

/** An attempt's controller: aborted by its deadline or by its stop signal. */
export class AttemptSignal extends AbortController {
  constructor(readonly stop: AbortSignal, readonly deadline: number) { super(); }
  /** True when the deadline, not a stop, ended it. */
  get timedOut(): boolean { return this.signal.aborted && this.signal.reason === ATTEMPT_DEADLINE; }
}

/** The error an aborted call fails with: the signal's deadline reason, else a plain abort (EABORT). */
export function abortError(signal: AbortSignal | undefined): Error {
  if (signal?.reason === ATTEMPT_DEADLINE) return ATTEMPT_DEADLINE;
  return Object.assign(new Error('Delivery aborted'), { code: 'EABORT' });
}

export class AttemptDeadlines {
  readonly #live = new Set<AttemptSignal>();
  readonly #hooked = new WeakSet<AbortSignal>();
  #sweep: NodeJS.Timeout | null = null;

  /** `sweepMs`: how often deadlines are checked (an attempt ends at most this late). */
  constructor(private readonly clock: Clock, private readonly sweepMs: number) {}

  /** Sweep interval for a lease time: a quarter of the margin, between 20 ms and 1 s. */
  static sweepFor(leaseTimeMs: number): number {
    return Math.max(20, Math.min(1000, Math.floor(Math.min(RECORD_MARGIN_MAX_MS, leaseTimeMs / 5) / 4)));
  }

  /** Attempts in flight (tests). */
  get size(): number { return this.#live.size; }

  /** A signal for one attempt: aborted at `deadline` (ATTEMPT_DEADLINE) or when `stop` aborts. end() it after. */
  begin(stop: AbortSignal, deadline: number): AttemptSignal {
    const a = new AttemptSignal(stop, deadline);
    if (stop.aborted) { a.abort(stop.reason); return a; }
    if (!this.#hooked.has(stop)) {
      this.#hooked.add(stop);
      stop.addEventListener('abort', () => { for (const x of this.#live) if (x.stop === stop) x.abort(stop.reason); }, { once: true });
    }
    this.#live.add(a);
    if (this.#sweep === null) {
      this.#sweep = setInterval(() => this.#check(), this.sweepMs);
      this.#sweep.unref();
    }
    return a;
  }

  end(a: AttemptSignal): void { this.#live.delete(a); }

  #check(): void {
    if (this.#live.size === 0) { // idle: stop sweeping until the next attempt (kept while attempts follow each other)
      clearInterval(this.#sweep!);
      this.#sweep = null;
      return;
    }
    const now = this.clock.now();
    for (const a of this.#live) {
      if (now < a.deadline) continue;
      this.#live.delete(a);
      a.abort(ATTEMPT_DEADLINE);
    }
  }
}
