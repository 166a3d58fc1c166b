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
import type { Logger } from '../events/log.js';

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

  /** A transaction that wrote something was committed. */
  succeeded(): void {
    if (this.#outage === null || this.#now() - this.#lastFailure < this.#settleMs) return;
    this.o.logger.info({ event: 'queue.available', store: this.o.store, downMs: this.#now() - this.#outage.since, failedCalls: this.#failures },
      'the queue store is available again');
    this.#outage = null;
    this.#failures = 0;
  }
}
