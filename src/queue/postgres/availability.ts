// Which PostgreSQL failures mean "the database is unreachable or overloaded right now" (retry
// later; nothing was committed) as opposed to a failure of the statement itself. The store turns
// the first kind into QueueUnavailableError (451 to SMTP clients, a pause for delivery), and tracks
// the transitions so an outage is logged once when it starts and once when it ends.
import type { Logger } from '../../events/log.js';

/** Socket-level failures: the server is down, restarting, or the network is cut. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html): class 08 connection
 * exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
 * in recovery); 57014 query_canceled (statement_timeout); class 53 insufficient resources
 * (too_many_connections, disk full); 40001/40P01 serialization failure and deadlock.
 */
const SQLSTATE_EXACT = new Set(['57P01', '57P02', '57P03', '57014', '40001', '40P01']);
const SQLSTATE_CLASSES = ['08', '53'];

/** node-postgres's own errors for a lost or never-established connection (no code of their own). */
const PG_CLIENT_MESSAGES = [
  /^Connection terminated/i, // "... unexpectedly", "... due to connection timeout"
  /timeout exceeded when trying to connect/i, // pool: connectionTimeoutMillis
  /not queryable/i, // a client that already saw a connection error
  /Query read timeout/i,
];

export function isUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SQLSTATE_EXACT.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && SQLSTATE_CLASSES.includes(code.slice(0, 2))) return true;
  }
  return typeof message === 'string' && PG_CLIENT_MESSAGES.some((re) => re.test(message));
}

/**
 * Logs `queue.unavailable` at the first failure of an outage and `queue.available` at the first
 * success at least `settleMs` after the last failure: while a server shuts down, its sessions are
 * terminated one by one and a call may still succeed between two failures (no flapping lines).
 */
export class AvailabilityLog {
  #downSince: number | null = null;
  #lastFailure = 0;
  #failures = 0;
  constructor(private readonly logger: Logger, private readonly now: () => number = Date.now, private readonly settleMs = 1_000) {}

  failed(op: string, err: unknown): void {
    this.#failures++;
    this.#lastFailure = this.now();
    if (this.#downSince !== null) return;
    this.#downSince = this.now();
    const { code, message } = (err ?? {}) as { code?: string; message?: string };
    this.logger.error({ event: 'queue.unavailable', op, code, reason: message },
      'PostgreSQL is unreachable: SMTP answers 451, delivery pauses until it returns');
  }

  succeeded(): void {
    if (this.#downSince === null || this.now() - this.#lastFailure < this.settleMs) return;
    this.logger.info({ event: 'queue.available', downMs: this.now() - this.#downSince, failedCalls: this.#failures },
      'PostgreSQL is reachable again');
    this.#downSince = null;
    this.#failures = 0;
  }
}
