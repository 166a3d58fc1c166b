// The database thread. Owns the two better-sqlite3 connections (one writer, one reader) so no
// synchronous SQLite call or fsync ever runs on the main event loop. Writes are group-committed:
// the first write request opens a transaction, every request that arrives in the same turn runs
// in it (each in its own savepoint), and one setImmediate later the spool directory is fsynced
// (if a new body file is referenced), the transaction is committed once, the WAL is fsynced (see
// below), and all of them are answered. Inline bodies ride in the transaction; body files of
// finished messages are unlinked after the answers, asynchronously, so unlinks never hold up a
// group commit.
//
// Durability. The writer runs with synchronous=NORMAL, so SQLite's COMMIT only appends to the WAL;
// this thread then fsyncs the WAL itself (wal-sync.ts) before it answers, for every commit that
// changed rows unless every request in it was a claimDue. A claim-only commit writes nothing that
// is acknowledged or needed after a crash: leases and holds of recipients (claim-due.ts), which
// the relay releases at every start (main.ts, releaseLeases(null)); a later fsync, of the next
// commit that needs one or of a checkpoint, covers its frames too, since the WAL is appended in
// order and recovery keeps a prefix of whole commits. So a power loss can take back the claims
// since the last fsync and nothing else. Nothing is visible to a delivery or another request of
// this process before it is durable: the fsync runs synchronously here, after COMMIT and before
// the next request is read. (Another process, the CLI, can read a commit in the fsync's window,
// well under a millisecond; it acknowledges nothing on it.) SQLite syncs the WAL before each
// checkpoint and the database file after it also under NORMAL, and FULL saved only the per-commit
// fsync that claims do not need (bench/README.md, tenth and eleventh sessions).
//
// Fail-stop. If that fsync fails (EIO; ENOSPC or EDQUOT on some filesystems), the commit is
// visible but may never reach the disk (Linux can drop the dirty pages and report the error only
// once), so nothing more may be built on this connection: the thread answers none of the batch,
// posts a WorkerFatal and exits. The main thread fails every pending and later request
// (worker-client.ts), and the relay exits (main.ts), so that its restart recovers the queue from
// what is on disk. A commit that SQLite itself could not write (SQLITE_FULL, SQLITE_IOERR) is
// rolled back before it is visible: those stay ordinary failures (a full disk is an outage).
//
// Each answer says whether its commit changed rows and was fsynced (`wrote`): only such a commit
// proves, after a full disk, that writes work again (an empty one touches no file; a claim-only
// one may still sit in the page cache).
import { parentPort, workerData } from 'node:worker_threads';
import { ACCOUNT_READS, ACCOUNT_WRITES } from './account-ops.js';
import { BREAKER_READS, BREAKER_WRITES } from './breaker-ops.js';
import { claimDue } from './claim-due.js';
import { openConnections } from './connections.js';
import { DOMAIN_READS, DOMAIN_WRITES } from './domain-ops.js';
import { EVENT_READS, EVENT_WRITES } from './event-ops.js';
import type { BodySource, Op, ReadOp, WorkerConfig, WorkerErrorKind, WorkerFatal, WorkerReady, WorkerRequest, WorkerResponse, WriteOp } from './protocol.js';
import { READ_OPS } from './protocol.js';
import * as reads from './read-ops.js';
import { OpError, sql, type Db, type Effects } from './rows.js';
import { fsyncDirSync, listOldBodiesSync, removeBodies, removeBodiesSync } from './spool.js';
import { STATS_READS, STATS_WRITES } from './stats-ops.js';
import { TLS_REPORT_READS, TLS_REPORT_WRITES } from './tls-report-ops.js';
import { SHAPING_READS, SHAPING_WRITES } from './shaping-ops.js';
import { SOURCE_READS, SOURCE_WRITES } from './source-ops.js';
import { DASHBOARD_READS, DASHBOARD_WRITES } from './dashboard-ops.js';
import { QUEUE_OVERVIEW_READS } from './queue-overview-ops.js';
import { WEBHOOK_REPLAY_WRITES } from './webhook-replay-ops.js';
import { SECRET_READS, SECRET_WRITES, SUPPRESSION_READS, SUPPRESSION_WRITES } from './suppression-ops.js';
import { WEBHOOK_READS, WEBHOOK_WRITES } from './webhook-ops.js';
import { WalSync } from './wal-sync.js';
import { freeNow } from '../../free-bytes.js';
import * as writes from './write-ops.js';

type WriteHandler = (db: Db, fx: Effects, ...args: never[]) => unknown;
const WRITE_HANDLERS: Record<WriteOp, WriteHandler> = { ...writes, ...DOMAIN_WRITES, ...ACCOUNT_WRITES, ...EVENT_WRITES, ...WEBHOOK_WRITES, ...SUPPRESSION_WRITES, ...STATS_WRITES, ...SECRET_WRITES, ...BREAKER_WRITES, ...TLS_REPORT_WRITES, ...SOURCE_WRITES, ...SHAPING_WRITES, ...DASHBOARD_WRITES, ...WEBHOOK_REPLAY_WRITES, claimDue };
const READ_HANDLERS: Record<ReadOp, (db: Db, ...args: never[]) => unknown> = { ...reads, ...DOMAIN_READS, ...ACCOUNT_READS, ...EVENT_READS, ...WEBHOOK_READS, ...SUPPRESSION_READS, ...STATS_READS, ...SECRET_READS, ...BREAKER_READS, ...TLS_REPORT_READS, ...SOURCE_READS, ...SHAPING_READS, ...DASHBOARD_READS, ...QUEUE_OVERVIEW_READS };

interface Pending { id: number; op: WriteOp; result: unknown; fx: Effects; transfer?: ArrayBuffer[] }

class GroupCommitter {
  #pending: Pending[] = [];
  #open = false;
  /** The failure that made SQLite roll the open batch back, if it did. */
  #abortedBy: unknown = null;
  #changesAtBegin = 0;
  readonly #totalChanges: () => number;
  /**
   * Runs a request in a savepoint of the open batch. Made once: better-sqlite3's transaction()
   * builds four wrapper functions and defines their properties at every call (Object.defineProperties,
   * about 1 % of workload iii's instructions when it was made per request); the statements it runs
   * are its cached ones either way.
   */
  readonly #inSavepoint: (handler: WriteHandler, fx: Effects, args: never[]) => unknown;
  constructor(private readonly db: Db, private readonly spoolDir: string, private readonly wal: WalSync,
    private readonly send: (r: WorkerResponse, transfer?: ArrayBuffer[]) => void, private readonly failStop: (err: unknown) => never) {
    const stmt = db.prepare('SELECT total_changes()').pluck();
    this.#totalChanges = () => stmt.get() as number;
    this.#inSavepoint = db.transaction((handler: WriteHandler, fx: Effects, args: never[]) => handler(db, fx, ...args));
  }

  execute(req: WorkerRequest): void {
    if (!this.#begin(req.id)) return releaseBodies(req);
    const fx: Effects = { syncSpool: false, unlink: [] };
    const handler = WRITE_HANDLERS[req.op as WriteOp];
    try {
      const result = this.#inSavepoint(handler, fx, req.args as never[]); // a savepoint
      // SQLite copied each body when its statement ran (bound SQLITE_TRANSIENT): hand a kept one
      // back with the answer, free the others now (protocol.ts, WorkerRequest's `keep`).
      const back = req.keep ? keptBody(req) : null;
      if (back) this.#pending.push({ id: req.id, op: req.op as WriteOp, result: [result, back], fx, transfer: [back.buffer as ArrayBuffer] });
      else {
        releaseBodies(req);
        this.#pending.push({ id: req.id, op: req.op as WriteOp, result: req.keep ? [result, null] : result, fx });
      }
    } catch (err) {
      releaseBodies(req);
      // On SQLITE_FULL, an I/O error or SQLITE_BUSY, SQLite may roll the whole batch back: the
      // requests that already ran in it are lost too, and must fail with the same cause.
      if (!this.db.inTransaction) this.#abortedBy ??= err;
      this.send(failure(req.id, err, 'write'));
    }
  }

  /** Commits the open batch now (also used by close). */
  commit(): void {
    if (!this.#open) return;
    this.#open = false;
    const batch = this.#pending;
    this.#pending = [];
    const abortedBy = this.#abortedBy;
    this.#abortedBy = null;
    try {
      if (abortedBy !== null) throw aborted(abortedBy);
      if (batch.some((p) => p.fx.syncSpool)) fsyncDirSync(this.spoolDir);
      this.db.exec('COMMIT');
    } catch (err) {
      try { if (this.db.inTransaction) this.db.exec('ROLLBACK'); } catch { /* rolled back anyway (disk full): never kill the thread */ }
      for (const p of batch) this.send(failure(p.id, err, 'write'));
      return;
    }
    // Changed rows, and not only claims: fsynced before any answer leaves (header, "Durability").
    const wrote = this.#totalChanges() > this.#changesAtBegin && !batch.every((p) => p.op === 'claimDue');
    if (wrote) {
      try { this.wal.sync(); } catch (err) { this.failStop(err); }
    }
    for (const p of batch) this.send({ id: p.id, ok: true, result: p.result, wrote }, p.transfer);
    const unlink = batch.flatMap((p) => p.fx.unlink);
    if (unlink.length > 0) void removeBodies(this.spoolDir, unlink); // a crash before it ran: the orphan sweep
  }

  /** Opens the batch transaction if needed; false (request answered) when that is impossible. */
  #begin(id: number): boolean {
    if (this.#open) {
      if (this.db.inTransaction) return true;
      // SQLite rolled the whole transaction back (e.g. disk full): the batch fails at commit.
      this.send(failure(id, aborted(this.#abortedBy), 'write'));
      return false;
    }
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.#changesAtBegin = this.#totalChanges();
    } catch (err) {
      this.send(failure(id, err, 'write'));
      return false;
    }
    this.#open = true;
    setImmediate(() => this.commit());
    return true;
  }
}

/** Bodies from this size up are freed as soon as their statement has run; smaller ones are left to the GC. */
export const RELEASE_BODY_MIN = 16 * 1024;

/** The inline bodies a write request carries (transferred to this thread; not read again once its statements have run). */
function bodiesOf(req: WorkerRequest): unknown[] {
  switch (req.op) {
    case 'put': case 'putCheckingSuppressions': return [req.args[2]];
    case 'putMany': return (req.args[2] as unknown[] | undefined) ?? [];
    case 'recordResults': return (req.args[5] as unknown[] | undefined) ?? [];
    default: return [];
  }
}

/** A body that owns its whole ArrayBuffer (as InlineBodyWriter makes them), so it can be handed on or freed. */
const ownsBuffer = (b: unknown): b is Uint8Array =>
  b instanceof Uint8Array && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && !(b.buffer instanceof SharedArrayBuffer);

function keptBody(req: WorkerRequest): Uint8Array | null {
  const [b] = bodiesOf(req);
  return ownsBuffer(b) && b.byteLength > 0 ? b : null;
}

/**
 * Frees a request's large bodies now: they came from the main thread by transfer, and this
 * thread's isolate, which allocates little, would hold them (and the main thread's malloc arena
 * their pages) until its next scavenge, tens of messages later on 100 KB mail (bench/README.md,
 * nineteenth session).
 */
function releaseBodies(req: WorkerRequest): void {
  for (const b of bodiesOf(req)) if (ownsBuffer(b) && b.byteLength >= RELEASE_BODY_MIN) freeNow(b.buffer as ArrayBuffer);
}

/** The error for requests of a batch SQLite rolled back: the cause's code, so the store classifies it alike. */
function aborted(cause: unknown): Error {
  if (cause == null) return new Error('transaction aborted');
  const c = cause as { message?: string; code?: string };
  return Object.assign(new Error(`transaction aborted: ${String(c.message ?? cause)}`), { code: c.code });
}

function failure(id: number, err: unknown, kind: WorkerErrorKind): WorkerResponse {
  const e = err as { message?: string; code?: string };
  return { id, ok: false, kind: err instanceof OpError ? err.kind : kind, message: String(e?.message ?? err), code: e?.code };
}

/**
 * A committed batch could not be made durable: tell the main thread why, answer nothing, and end
 * the thread without running another statement (worker.ts header, "Fail-stop"). Closing the
 * connections, which the thread's teardown does, is safe: SQLite's checkpoint on close syncs the
 * WAL first, on its own descriptor, which Linux also reports the error to, so it stops before it
 * copies anything into the database file.
 */
function failStop(port: NonNullable<typeof parentPort>, err: unknown): never {
  const e = err as { message?: string; code?: string };
  port.postMessage({ fatal: true, message: `WAL fsync failed after a commit: ${String(e?.message ?? err)}`, code: e?.code } satisfies WorkerFatal);
  process.exit(1); // in a worker: ends this thread, and the messages already posted are delivered
}

/** Removes spool files older than the age limit that no live message references. */
function sweepOrphans(db: Db, cfg: WorkerConfig): number {
  const live = sql(db, 'SELECT completed_at FROM queued_message WHERE id = ?');
  const orphans = listOldBodiesSync(cfg.spoolDir, Date.now() - cfg.orphanAgeMs).filter((id) => {
    const row = live.get(id) as { completed_at: number | null } | undefined;
    return !row || row.completed_at !== null;
  });
  removeBodiesSync(cfg.spoolDir, orphans);
  return orphans.length;
}

function main(): void {
  const port = parentPort!;
  const cfg = workerData as WorkerConfig;
  let conns: { writer: Db; reader: Db };
  let swept = 0;
  try {
    conns = openConnections(cfg);
    if (cfg.sweepOrphans) swept = sweepOrphans(conns.writer, cfg);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    port.postMessage({ ready: false, message: String(e?.message ?? err), code: e?.code } satisfies WorkerReady);
    return;
  }
  const send = (r: WorkerResponse, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);
  const wal = new WalSync(`${cfg.dbPath}-wal`);
  const committer = new GroupCommitter(conns.writer, cfg.spoolDir, wal, send, (err) => failStop(port, err));
  let closed = false;
  // One request, or the requests the main thread made in one turn of its event loop (worker-client.ts), in order.
  port.on('message', (msg: WorkerRequest | WorkerRequest[]) => {
    if (Array.isArray(msg)) for (const req of msg) handle(req);
    else handle(msg);
  });
  const handle = (req: WorkerRequest): void => {
    if (closed) return send(failure(req.id, new Error('queue store is closed'), 'write'));
    if (req.op === 'close') {
      closed = true;
      committer.commit();
      conns.reader.close();
      conns.writer.close(); // the last connection: SQLite checkpoints, syncing the WAL and the database
      wal.close();
      send({ id: req.id, ok: true, result: null });
      return port.close();
    }
    if (isReadOp(req.op)) {
      try {
        const result = READ_HANDLERS[req.op](conns.reader, ...(req.args as never[]));
        send({ id: req.id, ok: true, result }, req.op === 'bodySource' ? ownBuffers((result as BodySource).body) : []);
      } catch (err) { send(failure(req.id, err, 'internal')); }
      return;
    }
    committer.execute(req);
  };
  port.postMessage({ ready: true, swept } satisfies WorkerReady);
}

const isReadOp = (op: Op): op is ReadOp => (READ_OPS as readonly string[]).includes(op);

/** A blob read from SQLite owns its whole ArrayBuffer: transfer it rather than copy it. */
const ownBuffers = (body: unknown): ArrayBuffer[] =>
  body instanceof Uint8Array && body.byteLength > 0 && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
    ? [body.buffer as ArrayBuffer] : [];

main();
