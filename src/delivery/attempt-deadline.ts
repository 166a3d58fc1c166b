// Owns the deadline of each relay attempt: an attempt ends before its job's lease does. A job is
// claimed for delivery.leaseTime and its lease is never renewed; once it expires another node of a
// cluster may claim the message and deliver it again. A hostile MX can hold an attempt far longer
// (a body read a few KB at a time is never silent, so delivery.commandTimeout never fires; a reply
// to every command given just within commandTimeout), so every attempt gets a deadline: the job's
// leaseUntil less a margin to record its result (attemptDeadline). At the deadline the connection
// the attempt is using (connecting, in a command or in the body) is reset (destroyConnection), the
// attempt tries no other host, and every recipient not yet decided is deferred with
// DEADLINE_VERDICT (run-job.ts, attempt.ts).
// Except an attempt that waits for the reply to the end of data with the whole message sent
// (thirty-first session): the server may have taken the message, and cutting the connection then
// leaves the outcome unknown; retried, it may be delivered twice (RFC 1047). Such an attempt waits
// for that reply up to a later edge (finalReplyEdge: half the record margin and a sweep interval
// before the lease ends, so the result is still recorded, with at least half the margin left, before
// another node may claim the job); at the deadline it
// tries nothing new (no other host, its session not reused), and it is cut only if the reply has
// not come by the edge. Whether it waits is read from the connection only at the deadline.
// Cheap on the hot path: per attempt one small object (no AbortController: with its EventTarget it
// cost ~1 % of the program instructions of a message, bench/README.md twenty-ninth session) and a
// Set entry; one interval for all attempts sweeps for deadlines; no timer or listener per attempt.
// The scheduler's stop still travels as the AbortSignal it was.
import type SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { Clock } from '../clock.js';
import type { Verdict } from './classify.js';
import { destroyConnection } from './connection-pool.js';
import { OutboundSmtpConnection } from './smtp-connection.js';

/** The connection sent the whole message and waits for the reply to its end of data (smtp-connection.ts). */
const awaitsFinalReply = (conn: SMTPConnection): boolean => conn instanceof OutboundSmtpConnection && conn.awaitsFinalReply();

/** At most this long is kept between an attempt's deadline and its lease's end, to record the result. */
export const RECORD_MARGIN_MAX_MS = 30_000;

/** The margin kept between an attempt's deadline and its lease's end: a fifth of leaseTime, at most RECORD_MARGIN_MAX_MS. */
export function recordMargin(leaseTimeMs: number): number {
  return Math.min(RECORD_MARGIN_MAX_MS, Math.floor(leaseTimeMs / 5));
}

/** When an attempt of a job leased until `leaseUntil` must end: a fifth of the lease before, at most RECORD_MARGIN_MAX_MS. */
export function attemptDeadline(leaseUntil: number, leaseTimeMs: number): number {
  return leaseUntil - recordMargin(leaseTimeMs);
}

/**
 * How long before its lease's end an attempt waiting for its final reply is cut at the latest:
 * half the record margin, and the sweep interval by which the cut may come late, so that at least
 * half the margin is left to record the result (16 s by default: cut by 15 s before the lease ends).
 */
export function finalReplyMargin(leaseTimeMs: number): number {
  return Math.floor(recordMargin(leaseTimeMs) / 2) + AttemptDeadlines.sweepFor(leaseTimeMs);
}

/**
 * Until when an attempt that reached its deadline `deadline` while waiting for the reply to its
 * end of data may still wait for it: finalReplyMargin before the lease ends (9 min 44 s after the
 * claim by default, 14 s after the deadline), never before the deadline itself (a deadline pushed
 * past that by the commandTimeout floor, or a lease too short to leave room).
 */
export function finalReplyEdge(deadline: number, leaseUntil: number, leaseTimeMs: number): number {
  return Math.max(deadline, leaseUntil - finalReplyMargin(leaseTimeMs));
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

/**
 * One attempt's deadline; `conn`: the connection it is using now (set by the pool and the
 * attempt), reset when it passes, unless it waits for the reply to the end of data: then at `edge`.
 */
export class AttemptDeadline {
  /** The deadline passed: nothing new is tried (the connection was reset, or it waits for its final reply). */
  passed = false;
  /** At the deadline the connection waited for the reply to the end of data: it was given until `edge`. */
  awaitedFinalReply = false;
  conn: SMTPConnection | null = null;
  /** `subject`: what the attempt delivers (told to onWait). */
  constructor(readonly at: number, readonly edge: number, readonly subject: unknown = null) {}
}

export class AttemptDeadlines {
  readonly #live = new Set<AttemptDeadline>();
  #sweep: NodeJS.Timeout | null = null;

  /**
   * `sweepMs`: how often deadlines are checked (an attempt ends at most this late); `onWait`: an
   * attempt reached its deadline waiting for its final reply and waits on (log).
   */
  constructor(private readonly clock: Clock, private readonly sweepMs: number, private readonly onWait?: (d: AttemptDeadline) => void) {}

  /** Sweep interval for a lease time: a quarter of the margin, between 20 ms and 1 s. */
  static sweepFor(leaseTimeMs: number): number {
    return Math.max(20, Math.min(1000, Math.floor(Math.min(RECORD_MARGIN_MAX_MS, leaseTimeMs / 5) / 4)));
  }

  /** Attempts in flight (tests). */
  get size(): number { return this.#live.size; }

  /** The deadline of one attempt (`edge`: finalReplyEdge; default `at`), watched until end(). */
  begin(at: number, edge = at, subject: unknown = null): AttemptDeadline {
    const d = new AttemptDeadline(at, edge, subject);
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
      d.passed = true;
      if (now < d.edge && d.conn !== null && awaitsFinalReply(d.conn)) { // waits on, until the edge
        if (!d.awaitedFinalReply) { d.awaitedFinalReply = true; this.onWait?.(d); }
        continue;
      }
      this.#live.delete(d);
      if (d.conn) destroyConnection(d.conn);
    }
  }
}
