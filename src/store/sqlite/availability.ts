// Which failures of the embedded store mean "the storage cannot take writes right now" (retry
// later; nothing was committed) as opposed to a failure of the operation itself: the SQLite
// result codes of a full or failing disk and of a lock held too long, and the errno of a spool
// file write. The store turns them into QueueUnavailableError, exactly like an unreachable
// PostgreSQL (postgres/availability.ts): SMTP answers 451, HTTP 503, delivery pauses and keeps
// the outcomes of finished deliveries in memory until they can be recorded, /readyz says not ready.

/** errno of spool writes: out of space or quota, a failing device, a filesystem remounted read-only after errors. */
const FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS']);

/**
 * SQLite result codes (https://www.sqlite.org/rescode.html), primary or extended: SQLITE_FULL (the
 * disk is full: a WAL append or a database page could not be allocated), SQLITE_IOERR_* (a read,
 * write, fsync, truncate or shared-memory mapping failed: ENOSPC or EIO underneath), SQLITE_BUSY*
 * (another process — the CLI — held the write lock past busy_timeout). SQLite rolls the
 * transaction back on these; the same write can succeed later.
 */
const SQLITE_PREFIXES = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_BUSY'];

export function isUnavailable(code: unknown): boolean {
  if (typeof code !== 'string') return false;
  if (FS_CODES.has(code)) return true;
  return SQLITE_PREFIXES.some((p) => code === p || code.startsWith(`${p}_`));
}
