// Owns what the relay knows, between calls, about whether its queue store can be used now. An
// outage begins at a failure the store classified as "unavailable" (postgres/availability.ts: the
// server unreachable, out of disk or memory; sqlite/availability.ts: disk full, I/O error, lock
// timeout) and ends at the first successful write at least settleMs after the last such failure.
// Both stores log `queue.unavailable` once when an outage begins and `queue.available` once when
// it ends, and /readyz asks `writable`. Only a commit that wrote something ends an outage (the
// stores call succeeded() only then): on a full disk reads keep working, an empty transaction (a
// claim that found nothing due) commits without touching the disk, and a small write that fits in
// space already allocated can succeed between two failed ones (hence the settle time).
// main.ts's heartbeat (a row written every 10 s) is the probe that notices an idle outage's end.
// It also times the writes (a slow disk, an overloaded database): `slowness` says whether one is
// pending for SLOW_WRITE_MS or more, or one took that long within the last SLOW_WINDOW_MS; /readyz
// reports such a store as degraded (still 200: the writes complete, and taking every node out of
// the load balancer because their shared database is slow would turn slow mail into no mail), and
// `queue.slow` is logged at most once a minute.
import type { Logger } from '../events/log.js';

/** A write that takes this long is slow (normal commits take milliseconds, even with fsync). */
export const SLOW_WRITE_MS = 1_000;
/** A slow write is remembered (/readyz degraded) this long: a probe every 10 s sees every episode. */
export const SLOW_WINDOW_MS = 10_000;
/** At most one `queue.slow` line per this long. */
const SLOW_LOG_EVERY_MS = 60_000;

/** A store whose writes are slow now: the oldest still pending (0 if none) and the slowest recent one. */
export interface Slowness { pendingMs: number; slowestMs: number }

export interface StoreAvailabilityOptions {
  logger: Logger;
  /** 'postgres' | 'sqlite': the `store` field of the log lines. */
  store: string;
  now?: () => number;
  /** A write must succeed at least this long after the last failure to end the outage (default 1 s). */
  settleMs?: number;
}

export interface Outage { since: number; op: string; code: string | null; reason: string }

export class StoreAvailability {
  #outage: Outage | null = null;
  #lastFailure = 0;
  #failures = 0;
  readonly #now: () => number;
  readonly #settleMs: number;
  /** Start times of the writes in flight, oldest first (Map keeps insertion order). */
  readonly #inFlight = new Map<number, number>();
  #nextWrite = 0;
  /** The slowest write that finished within the window, and when it finished. */
  #slow: { ms: number; at: number } | null = null;
  #slowLoggedAt = -Infinity;

  constructor(private readonly o: StoreAvailabilityOptions) {
    this.#now = o.now ?? Date.now;
    this.#settleMs = o.settleMs ?? 1_000;
  }

  /** False from an "unavailable" failure until a write succeeds (at least settleMs after the last one). */
  get writable(): boolean { return this.#outage === null; }

  /** The current outage: when it began and the first failure's op and code; null when available. */
  get outage(): Readonly<Outage> | null { return this.#outage; }

  /** A call failed because the store is unavailable (the caller classified it). */
  failed(op: string, err: unknown): void {
    this.#failures++;
    this.#lastFailure = this.#now();
    if (this.#outage !== null) return;
    const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
    this.#outage = { since: this.#lastFailure, op, code: typeof code === 'string' ? code : null, reason: String(message ?? err) };
    this.o.logger.error({ event: 'queue.unavailable', store: this.o.store, op, code: this.#outage.code, reason: this.#outage.reason },
      'the queue store is unavailable (unreachable, disk full or failing): SMTP answers 451, delivery pauses until it returns');
  }

  /** A write begins; call the returned function when it has finished (committed or failed). */
  writeStarted(op: string): () => void {
    const id = this.#nextWrite++;
    const start = this.#now();
    this.#inFlight.set(id, start);
    return () => {
      this.#inFlight.delete(id);
      const now = this.#now();
      const ms = now - start;
      if (ms < SLOW_WRITE_MS) return;
      if (!this.#slow || now - this.#slow.at >= SLOW_WINDOW_MS || ms >= this.#slow.ms) this.#slow = { ms, at: now };
      if (now - this.#slowLoggedAt < SLOW_LOG_EVERY_MS) return;
      this.#slowLoggedAt = now;
      this.o.logger.warn({ event: 'queue.slow', store: this.o.store, op, ms },
        'a queue write took over a second (slow disk or overloaded database): replies to SMTP and HTTP clients are delayed');
    };
  }

  /** Null while writes are fast; else how slow (see SLOW_WRITE_MS and SLOW_WINDOW_MS). */
  get slowness(): Slowness | null {
    const now = this.#now();
    const oldest = this.#inFlight.values().next();
    const pendingMs = oldest.done ? 0 : now - oldest.value;
    const slowestMs = this.#slow && now - this.#slow.at < SLOW_WINDOW_MS ? this.#slow.ms : 0;
    return pendingMs >= SLOW_WRITE_MS || slowestMs > 0 ? { pendingMs, slowestMs: Math.max(slowestMs, pendingMs) } : null;
  }

  /** A transaction that wrote something was committed. */
  succeeded(): void {
    if (this.#outage === null || this.#now() - this.#lastFailure < this.#settleMs) return;
    this.o.logger.info({ event: 'queue.available', store: this.o.store, downMs: this.#now() - this.#outage.since, failedCalls: this.#failures },
      'the queue store is available again');
    this.#outage = null;
    this.#failures = 0;
  }
}
