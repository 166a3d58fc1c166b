// Which PostgreSQL failures mean "the database cannot serve us right now" — unreachable,
// overloaded, out of disk or memory, failing I/O (retry later; nothing was committed) — as opposed
// to a failure of the statement itself. The store turns the first kind into QueueUnavailableError
// (451 to SMTP clients, a pause for delivery, outcomes of finished deliveries kept in memory) and
// reports it to its StoreAvailability (../store-availability.ts: logged once, /readyz).

/** Socket-level failures: the server is down, restarting, or the network is cut. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html): class 08 connection
 * exception; 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up or
 * in recovery); 57014 query_canceled (statement_timeout); class 53 insufficient resources
 * (53100 disk_full, 53200 out_of_memory, 53300 too_many_connections, 53400 configuration_limit_exceeded
 * e.g. temp_file_limit); 58030 io_error (a data or WAL file could not be read or written: the
 * server's disk, not our statement); 40001/40P01 serialization failure and deadlock. All of them
 * leave nothing committed and may pass: retrying later is right, and keeps a delivery that
 * finished meanwhile from being repeated.
 */
const SQLSTATE_EXACT = new Set(['57P01', '57P02', '57P03', '57014', '58030', '40001', '40P01']);
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
