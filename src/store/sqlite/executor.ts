// The store's executor: runs every request of SqliteQueueStore on two better-sqlite3 connections
// (one writer, one read-only reader) and answers it, on whichever thread it lives: the relay's
// database thread (worker.ts, through worker-client.ts) or the caller's own thread (client.ts,
// SqliteQueueStore's `inProcess`: the CLI, and the relay with storage.sqliteThread: main). One copy of the rules for both. In-process there is
// no second V8 isolate and Node environment (~8.3 MB of anonymous memory before any code; peak
// anonymous memory −10 to −13 MB under the shared harness) and no postMessage round trip, but
// SQLite's work shares the caller's core: on a 2-core VM the relay's main thread saturated on small
// messages (e2e 0.60, relay CPU 1.14 on i-3k), so the relay keeps the thread by default and the
// in-process relay is an operator's choice (bench/README.md, twenty-third session). Either way the WAL fsync runs on libuv's pool (`fs.fsync`).
//
// Group commit. The first write request opens a transaction; every write made in the same turn of
// the event loop runs in it (each in its own savepoint, at once, when it is called), and one
// setImmediate later — or, while a WAL fsync is in flight, when that fsync has completed, so that
// the writes made during it join too — the spool directory is fsynced (if a new body file is
// referenced), the transaction is committed once, and the batch's answers go to the answer
// pipeline below. (Committing each turn's writes at once and letting the batches share the next
// fsync wrote more commits: relay CPU 1.08 against 1.00 on ii-500, bench/README.md twenty-third session.)
// Inline bodies ride in the transaction; body files of finished messages are unlinked once their
// batch is durable and answered, asynchronously (a crash before: the orphan sweep at the next start).
//
// Durability. The writer runs with synchronous=NORMAL, so SQLite's COMMIT only appends to the WAL;
// the executor then fsyncs the WAL itself (wal-sync.ts, `fs.fsync` on libuv's thread pool) for
// every commit that changed rows unless every request in it was a claimDue, and answers the batch
// only when that fsync has completed. A claim-only commit writes nothing that is acknowledged or
// needed after a crash: leases and holds of recipients (claim-due.ts), which the relay releases at
// every start (main.ts, releaseLeases(null)); a later fsync, of the next commit that needs one or
// of a checkpoint, covers its frames too, since the WAL is appended in order and recovery keeps a
// prefix of whole commits. So a power loss can take back the claims since the last fsync and
// nothing else. SQLite syncs the WAL before each checkpoint and the database file after it also
// under NORMAL (bench/README.md, tenth and eleventh sessions).
//
// The answer pipeline (AnswerPipeline). Answers leave in the order their requests were executed
// (commit order for writes): an answer, a read's too, waits for every durable commit made before
// it. One fsync is in flight at a time; what is committed while it runs (close's last batch)
// waits for the next one, and answers with no commit to wait for behind it wait too, to keep the
// order. Reads made while a batch is open are answered before that batch (they cannot see it).
//
// Visibility before durability. While its fsync runs, a committed batch is visible to this
// executor (the writer: claimDue, recordResults…; the reader: every read) though not yet durable.
// Nothing acknowledged can depend on it: (1) the batch's own requests are answered only after the
// fsync (the 250, the 202); (2) every request executed after the commit, read or write, is
// answered after that fsync too (the pipeline's order), so no delivery starts from a claim of an
// undurable message and no reader is shown it before it is durable; (3) a commit that depends on
// it is later in the WAL, and WAL recovery keeps a prefix of whole commits, so a crash that loses
// the batch loses everything built on it with it. (Another process, the CLI, can read a commit in
// the fsync's window; it acknowledges nothing on it.)
//
// The heavy reads' answers. With cfg.heavyReadsThread (the relay's in-process executor, config
// storage.sqliteThread: main; not the CLI's, whose own event loop may block, nor the database
// thread's, which has no event loop of the relay to keep free), reads whose cost grows with the
// queue or the history (read-handlers.ts, isHeavyRead) run on a thread of their own (reader-thread.ts) with its own read-only connection,
// and their answers are pushed into the pipeline when they come back, like any read's at that
// moment. The thread may read a commit whose fsync is still in flight, or one made after the read
// was asked for: either way that COMMIT ran on this thread before the thread's read began, so
// before the answer's message is handled here, and so the commit's answers were pushed first; the
// read's answer waits behind them for that fsync (or the next, which covers it). So rule (2) above
// holds for them too: no one is shown a row before it is durable. What the thread cannot see is the
// open batch (uncommitted), as the main thread's reader cannot. Their answers may overtake later
// requests' (reads only; no write waits for a read).
//
// Fail-stop. If that fsync fails (EIO; ENOSPC or EDQUOT on some filesystems), the commit is
// visible but may never reach the disk (Linux can drop the dirty pages and report the error only
// once), so nothing more may be built on this connection: the executor answers none of the
// batches waiting in the pipeline, runs no further statement (the open batch, if any, is never
// committed), closes the connections and calls onFatal: StoreClient fails every pending and later
// request, and the relay exits (main.ts), so that its restart recovers the queue from what is on
// disk. Closing the connections is safe: SQLite's checkpoint on close syncs the WAL first, on its
// own descriptor, which Linux also reports the error to, so it stops before it copies anything
// into the database file (and the open transaction is rolled back). A commit that SQLite itself
// could not write (SQLITE_FULL, SQLITE_IOERR) is rolled back before it is visible: those stay
// ordinary failures (a full disk is an outage).
//
// Each answer says whether its commit changed rows and was fsynced (`wrote`): only such a commit
// proves, after a full disk, that writes work again (an empty one touches no file; a claim-only
// one may still sit in the page cache).
import { ACCOUNT_WRITES } from './account-ops.js';
import { BREAKER_WRITES } from './breaker-ops.js';
import { claimDue } from './claim-due.js';
import { openConnections } from './connections.js';
import { DOMAIN_WRITES } from './domain-ops.js';
import { EVENT_WRITES } from './event-ops.js';
import type { Op, ReadOp, StoreConfig, StoreErrorKind, StoreRequest, StoreResponse, WriteOp } from './protocol.js';
import { READ_OPS } from './protocol.js';
import { READ_HANDLERS, isHeavyRead } from './read-handlers.js';
import { ReaderThread } from './reader-thread.js';
import { OpError, sql, type Db, type Effects } from './rows.js';
import { fsyncDirSync, listOldBodiesSync, removeBodies, removeBodiesSync } from './spool.js';
import { STATS_WRITES } from './stats-ops.js';
import { TLS_REPORT_WRITES } from './tls-report-ops.js';
import { SHAPING_WRITES } from './shaping-ops.js';
import { SOURCE_WRITES } from './source-ops.js';
import { DASHBOARD_WRITES } from './dashboard-ops.js';
import { WEBHOOK_REPLAY_WRITES } from './webhook-replay-ops.js';
import { SECRET_WRITES, SUPPRESSION_WRITES } from './suppression-ops.js';
import { WEBHOOK_WRITES } from './webhook-ops.js';
import { WalSync } from './wal-sync.js';
import { freeNow } from '../../free-bytes.js';
import * as writes from './write-ops.js';


type WriteHandler = (db: Db, fx: Effects, ...args: never[]) => unknown;
const WRITE_HANDLERS: Record<WriteOp, WriteHandler> = { ...writes, ...DOMAIN_WRITES, ...ACCOUNT_WRITES, ...EVENT_WRITES, ...WEBHOOK_WRITES, ...SUPPRESSION_WRITES, ...STATS_WRITES, ...SECRET_WRITES, ...BREAKER_WRITES, ...TLS_REPORT_WRITES, ...SOURCE_WRITES, ...SHAPING_WRITES, ...DASHBOARD_WRITES, ...WEBHOOK_REPLAY_WRITES, claimDue };

/** Answers in execution order, each released once every durable commit before it is fsynced (header). */
class AnswerPipeline {
  /** Answers (and body files to unlink after them) waiting for the fsync in flight, if one is. */
  #syncing: StoreResponse[] | null = null;
  #syncingUnlink: string[] = [];
  /** Answers behind it; `#nextSyncs`: a durable commit is among them, so they need an fsync of their own. */
  #next: StoreResponse[] = [];
  #nextUnlink: string[] = [];
  #nextSyncs = false;
  #failed = false;
  #drained: (() => void)[] = [];
  /** What waits for the fsync in flight to complete (the open batch's commit: whenIdle). */
  #idle: (() => void)[] = [];

  constructor(private readonly wal: WalSync, private readonly spoolDir: string,
    private readonly send: (r: StoreResponse) => void, private readonly fatal: (err: unknown) => void) {}

  /** `durable`: the answers are of a commit that must be fsynced before any of them leaves. */
  push(answers: StoreResponse[], durable: boolean, unlink: string[] = []): void {
    if (this.#failed) return;
    if (this.#syncing === null) {
      if (!durable) return this.#release(answers, unlink);
      return this.#sync(answers, unlink);
    }
    for (const a of answers) this.#next.push(a);
    for (const u of unlink) this.#nextUnlink.push(u);
    if (durable) this.#nextSyncs = true;
  }

  /** Runs `f` now when no fsync is in flight, else once the one in flight has completed and its answers have left. */
  whenIdle(f: () => void): void {
    if (this.#syncing === null || this.#failed) return f();
    this.#idle.push(f);
  }

  /** Resolves once nothing waits for an fsync (close). */
  drained(): Promise<void> {
    if (this.#syncing === null) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #sync(answers: StoreResponse[], unlink: string[]): void {
    this.#syncing = answers;
    this.#syncingUnlink = unlink;
    this.wal.sync((err) => {
      if (err) {
        this.#failed = true;
        this.#syncing = null;
        this.#next = [];
        this.#syncingUnlink = this.#nextUnlink = [];
        this.fatal(err);
        for (const f of this.#idle.splice(0)) f(); // the commit it held back: a no-op now (stopped)
        for (const d of this.#drained.splice(0)) d();
        return;
      }
      const done = this.#syncing!;
      const doneUnlink = this.#syncingUnlink;
      const next = this.#next;
      const nextUnlink = this.#nextUnlink;
      const nextSyncs = this.#nextSyncs;
      this.#syncing = null;
      this.#next = [];
      this.#nextUnlink = [];
      this.#nextSyncs = false;
      this.#release(done, doneUnlink);
      if (next.length > 0 || nextUnlink.length > 0) this.push(next, nextSyncs, nextUnlink);
      for (const f of this.#idle.splice(0)) f();
      if (this.#syncing === null) for (const d of this.#drained.splice(0)) d();
    });
  }

  #release(answers: StoreResponse[], unlink: string[]): void {
    for (const a of answers) this.send(a);
    if (unlink.length > 0) void removeBodies(this.spoolDir, unlink); // a crash before it ran: the orphan sweep
  }
}

interface Pending { id: number; op: WriteOp; result: unknown; fx: Effects }

class GroupCommitter {
  #pending: Pending[] = [];
  #open = false;
  /** No statement runs any more (fail-stop). */
  stopped = false;
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
  constructor(private readonly db: Db, private readonly spoolDir: string, private readonly out: AnswerPipeline) {
    const stmt = db.prepare('SELECT total_changes()').pluck();
    this.#totalChanges = () => stmt.get() as number;
    this.#inSavepoint = db.transaction((handler: WriteHandler, fx: Effects, args: never[]) => handler(db, fx, ...args));
  }

  /** Runs a write in the open batch (opening it); false when the write lock is held elsewhere (SQLITE_BUSY): nothing done. */
  execute(req: StoreRequest, busyIsFailure: boolean): boolean {
    const begun = this.#begin(req.id, busyIsFailure);
    if (begun === 'busy') return false;
    if (!begun) { releaseBodies(req); return true; }
    const fx: Effects = { syncSpool: false, unlink: [] };
    const handler = WRITE_HANDLERS[req.op as WriteOp];
    try {
      const result = this.#inSavepoint(handler, fx, req.args as never[]); // a savepoint
      // SQLite copied each body when its statement ran (bound SQLITE_TRANSIENT): hand a kept one
      // back with the answer, free the others now (protocol.ts, StoreRequest's `keep`).
      const back = req.keep ? keptBody(req) : null;
      if (!back) releaseBodies(req);
      this.#pending.push({ id: req.id, op: req.op as WriteOp, result: req.keep ? [result, back] : result, fx });
    } catch (err) {
      releaseBodies(req);
      // On SQLITE_FULL, an I/O error or SQLITE_BUSY, SQLite may roll the whole batch back: the
      // requests that already ran in it are lost too, and must fail with the same cause.
      if (!this.db.inTransaction) this.#abortedBy ??= err;
      this.out.push([failure(req.id, err, 'write')], false);
    }
    return true;
  }

  /** Commits the open batch now (also used by close). */
  commit(): void {
    if (!this.#open || this.stopped) return;
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
      try { if (this.db.inTransaction) this.db.exec('ROLLBACK'); } catch { /* rolled back anyway (disk full) */ }
      return this.out.push(batch.map((p) => failure(p.id, err, 'write')), false);
    }
    // Changed rows, and not only claims: fsynced before any answer leaves (header, "Durability").
    const wrote = this.#totalChanges() > this.#changesAtBegin && !batch.every((p) => p.op === 'claimDue');
    this.out.push(batch.map((p) => ({ id: p.id, ok: true, result: p.result, wrote })), wrote, batch.flatMap((p) => p.fx.unlink));
  }

  /**
   * Opens the batch transaction if needed; false (request answered) when that is impossible;
   * 'busy' when another connection holds the write lock and `busyIsFailure` is false.
   */
  #begin(id: number, busyIsFailure: boolean): boolean | 'busy' {
    if (this.#open) {
      if (this.db.inTransaction) return true;
      // SQLite rolled the whole transaction back (e.g. disk full): the batch fails at commit.
      this.out.push([failure(id, aborted(this.#abortedBy), 'write')], false);
      return false;
    }
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.#changesAtBegin = this.#totalChanges();
    } catch (err) {
      if (!busyIsFailure && isBusy(err)) return 'busy';
      this.out.push([failure(id, err, 'write')], false);
      return false;
    }
    this.#open = true;
    // one turn later, or, while an fsync is in flight, once it has completed: the writes made
    // meanwhile join this batch, one COMMIT (its pages written to the WAL once) for the next fsync
    setImmediate(() => this.out.whenIdle(() => this.commit()));
    return true;
  }
}

/** Bodies from this size up are freed as soon as their statement has run; smaller ones are left to the GC. */
export const RELEASE_BODY_MIN = 16 * 1024;

/**
 * The inline bodies a write request carries. The caller handed them over (`transfer` in
 * StoreClient.call: SqliteQueueStore takes them from InlineBodies and never reads them again), so
 * once their statements have run nobody reads them but the executor.
 */
function bodiesOf(req: StoreRequest): unknown[] {
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

/** The buffers of a request's bodies that own their ArrayBuffer: all the worker received by transfer (worker.ts). */
export function ownedBodies(req: StoreRequest): ArrayBuffer[] {
  return bodiesOf(req).filter(ownsBuffer).map((b) => b.buffer as ArrayBuffer);
}

/** The buffer an answer can hand on rather than copy (worker.ts): a kept body, or a blob SQLite read. */
export function answerBuffers(r: StoreResponse): ArrayBuffer[] {
  if (!r.ok) return [];
  const res = r.result as unknown;
  const b = Array.isArray(res) && res.length === 2 ? res[1] : (res as { body?: unknown } | null)?.body;
  return ownsBuffer(b) && b.byteLength > 0 ? [b.buffer as ArrayBuffer] : [];
}

function keptBody(req: StoreRequest): Uint8Array | null {
  const [b] = bodiesOf(req);
  return ownsBuffer(b) && b.byteLength > 0 ? b : null;
}

/**
 * Frees a request's large bodies now (free-bytes.ts): the caller gave them up, SQLite has its
 * copy, and the GC would otherwise hold them (and the malloc arena their pages) until the
 * ArrayBuffers are collected (bench/README.md, nineteenth session).
 */
function releaseBodies(req: StoreRequest): void {
  if (!req.transfer) return;
  for (const b of bodiesOf(req)) if (ownsBuffer(b) && b.byteLength >= RELEASE_BODY_MIN && req.transfer.includes(b.buffer as ArrayBuffer)) freeNow(b.buffer as ArrayBuffer);
}

/** The error for requests of a batch SQLite rolled back: the cause's code, so the store classifies it alike. */
function aborted(cause: unknown): Error {
  if (cause == null) return new Error('transaction aborted');
  const c = cause as { message?: string; code?: string };
  return Object.assign(new Error(`transaction aborted: ${String(c.message ?? cause)}`), { code: c.code });
}

function failure(id: number, err: unknown, kind: StoreErrorKind): StoreResponse {
  const e = err as { message?: string; code?: string };
  return { id, ok: false, kind: err instanceof OpError ? err.kind : kind, message: String(e?.message ?? err), code: e?.code };
}

/** Removes spool files older than the age limit that no live message references. */
function sweepOrphans(db: Db, cfg: StoreConfig): number {
  const live = sql(db, 'SELECT completed_at FROM queued_message WHERE id = ?');
  const orphans = listOldBodiesSync(cfg.spoolDir, Date.now() - cfg.orphanAgeMs).filter((id) => {
    const row = live.get(id) as { completed_at: number | null } | undefined;
    return !row || row.completed_at !== null;
  });
  removeBodiesSync(cfg.spoolDir, orphans);
  return orphans.length;
}

const isReadOp = (op: Op): op is ReadOp => (READ_OPS as readonly string[]).includes(op);
const isBusy = (err: unknown): boolean => String((err as { code?: string })?.code ?? '').startsWith('SQLITE_BUSY');

/**
 * How long writes wait for a write lock held by another connection (the CLI, or another store of
 * this process: the contract suite's second node) before they fail with SQLITE_BUSY, as the
 * writer's busy_timeout did when it ran in its own thread. The writer's busy_timeout is 0 after
 * the migrations (connections.ts): SQLite's busy handler sleeps, and here it would stop the whole
 * event loop (and, for a second store of this process, the commit that would free the lock).
 * Instead the executor retries BEGIN IMMEDIATE from timers, BUSY_RETRY_MS apart at most.
 */
export const BUSY_WAIT_MS = 5000;
const BUSY_RETRY_MS = 20;

export class StoreExecutor {
  #closed = false;
  readonly #out: AnswerPipeline;
  readonly #committer: GroupCommitter;
  readonly #wal: WalSync;
  /** The heavy reads' thread, started by the first one (reader-thread.ts); null: they run here (cfg.heavyReadsThread). */
  readonly #heavy: ReaderThread | null;

  private constructor(private readonly conns: { writer: Db; reader: Db }, cfg: StoreConfig,
    send: (r: StoreResponse) => void, onFatal: (message: string, code?: string) => void) {
    this.#wal = new WalSync(`${cfg.dbPath}-wal`);
    this.#out = new AnswerPipeline(this.#wal, cfg.spoolDir, send, (err) => {
      // header, "Fail-stop": no statement after this, nothing of the pipeline answered
      this.#closed = true;
      this.#committer.stopped = true;
      this.#closeConnections();
      const e = err as { message?: string; code?: string };
      onFatal(`WAL fsync failed after a commit: ${String(e?.message ?? err)}`, e?.code);
    });
    this.#committer = new GroupCommitter(conns.writer, cfg.spoolDir, this.#out);
    this.#heavy = cfg.heavyReadsThread // header, "The heavy reads' answers"
      ? new ReaderThread(cfg.dbPath, (answer) => this.#out.push([answer], false)) : null;
  }

  /**
   * Opens (and migrates) the database, sweeps orphaned spool files if asked; throws when it cannot.
   * `send`: each answer, in order, once it may leave (header). `onFatal`: the executor stopped
   * (fail-stop); nothing waiting is answered, and every later request fails.
   */
  static open(cfg: StoreConfig, send: (r: StoreResponse) => void, onFatal: (message: string, code?: string) => void): { executor: StoreExecutor; swept: number } {
    const conns = openConnections(cfg);
    let swept = 0;
    try {
      if (cfg.sweepOrphans) swept = sweepOrphans(conns.writer, cfg);
    } catch (err) {
      conns.reader.close();
      conns.writer.close();
      throw err;
    }
    return { executor: new StoreExecutor(conns, cfg, send, onFatal), swept };
  }

  /**
   * Runs a request now: a read on the reader, a write in the open batch. Its answer comes through
   * `send`. While the write lock is held by another connection, requests wait, in order (BUSY_WAIT_MS).
   */
  handle(req: StoreRequest): void {
    if (this.#closed) return this.#out.push([failure(req.id, new Error('queue store is closed'), 'write')], false);
    if (this.#waiting.length > 0) {
      this.#waiting.push(req);
      return;
    }
    if (!this.#run(req, false)) this.#wait(req);
  }

  /** Requests waiting for the write lock (the first is a write), and since when. */
  #waiting: StoreRequest[] = [];
  #waitingSince = 0;
  #retries = 0;

  /** false: a write found the write lock held elsewhere (nothing done). */
  #run(req: StoreRequest, busyIsFailure: boolean): boolean {
    if (!isReadOp(req.op)) return this.#committer.execute(req, busyIsFailure);
    if (this.#heavy && isHeavyRead(req.op, req.args)) { this.#heavy.run(req); return true; }
    let answer: StoreResponse;
    try {
      answer = { id: req.id, ok: true, result: READ_HANDLERS[req.op](this.conns.reader, ...(req.args as never[])) };
    } catch (err) { answer = failure(req.id, err, 'internal'); }
    this.#out.push([answer], false);
    return true;
  }

  #wait(req: StoreRequest): void {
    this.#waiting.push(req);
    this.#waitingSince = Date.now();
    this.#retries = 0;
    this.#retryLater();
  }

  #retryLater(): void {
    // the first retry after the commits already queued (another store's of this process), then a timer
    const retry = () => this.#retry();
    if (this.#retries++ === 0) setImmediate(retry);
    else setTimeout(retry, Math.min(BUSY_RETRY_MS, 2 ** this.#retries));
  }

  #retry(): void {
    if (this.#closed && this.#committer.stopped) return; // stopped (fail-stop): nothing waiting is run or answered
    const timedOut = Date.now() - this.#waitingSince >= BUSY_WAIT_MS;
    while (this.#waiting.length > 0) {
      const req = this.#waiting[0]!;
      if (!this.#run(req, timedOut)) return this.#retryLater();
      this.#waiting.shift();
    }
  }

  /** Commits the open batch, waits for its fsync, closes the database (SQLite checkpoints, syncing the WAL and the database). */
  async close(): Promise<void> {
    if (this.#closed) return;
    while (this.#waiting.length > 0) { // what waits for the lock is run (or fails) before the close
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
      if (this.#committer.stopped) return;
    }
    this.#closed = true;
    this.#committer.commit();
    await this.#heavy?.close(); // the heavy reads pending are answered (behind the commit), then the thread ends
    await this.#out.drained();
    if (this.#committer.stopped) return; // failed meanwhile: closed already
    this.#closeConnections();
  }

  #closeConnections(): void {
    void this.#heavy?.close();
    for (const c of [this.conns.reader, this.conns.writer]) { // the writer last: it checkpoints
      try { c.close(); } catch { /* closing anyway */ }
    }
    this.#wal.close();
  }
}
