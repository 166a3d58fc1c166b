// The heavy reads' thread (docs/design/store.md, "The heavy reads' thread"). Used when the relay
// runs the executor on its main thread (storage.sqliteThread: main; not the CLI, not the database
// thread of the default): there a read would hold every SMTP session and delivery while it runs,
// so the reads whose cost grows with the queue or the history (read-handlers.ts, isHeavyRead:
// listings, searches, aggregates for the API, the dashboard, the CLI and /metrics' count of the
// finished recipients (at most every 5 minutes; a scrape's queue depth is a light read); up to ~180 ms each on
// 1,000,000 events) run instead on a Worker with its own read-only connection
// (reader-worker.ts). The SMTP path and delivery make none of them, so a relay nobody queries never
// starts it (its ~8 MB of isolate and environment are spent only while someone reads).
//
// - Started by the first heavy read; later ones go to the same thread, one at a time in order.
// - Ended after IDLE_MS without a pending heavy read (its connection closed, the thread gone), and
//   by close(). It is referenced only while a read is pending (a CLI waiting for its listing stays
//   alive until the answer; an idle thread never keeps a process alive), the idle timer never.
// - Each answer goes to `send` when it arrives: the executor pushes it into its answer pipeline,
//   which releases it only after the fsync of every commit made before (executor.ts, "The heavy
//   reads' answers" says why that covers what the thread could have read).
// - A thread that fails (cannot open the database, crashes, is terminated) fails only its pending
//   reads, as 'internal'; the next heavy read starts a new one. The store carries on.
import { Worker } from 'node:worker_threads';
import type { ReadOp, StoreRequest, StoreResponse } from './protocol.js';

/** What the executor posts to the thread: a read, or 'close'. */
export type ReaderMessage = { id: number; op: ReadOp; args: unknown[] } | 'close';

/** How long the thread stays after its last heavy read was answered (settable for tests). */
export const readerThreadSettings = { idleMs: 30_000 };

/** The live threads of this process (for tests: whether one exists, or to kill one). */
export const liveReaderThreads = new Set<Worker>();

interface Thread { worker: Worker; pending: Set<number>; error: string | null }

export class ReaderThread {
  #thread: Thread | null = null;
  #idle: NodeJS.Timeout | null = null;
  #closed = false;
  /** Resolved when no read is pending any more (close waits for them). */
  #settled: (() => void)[] = [];

  constructor(private readonly dbPath: string, private readonly send: (r: StoreResponse) => void) {}

  /** Runs a heavy read on the thread (starting it); its answer comes through `send`. */
  run(req: StoreRequest): void {
    if (this.#closed) return this.send({ id: req.id, ok: false, kind: 'write', message: 'queue store is closed' });
    const t = this.#thread ?? this.#start();
    if (t === null) return this.send({ id: req.id, ok: false, kind: 'internal', message: `heavy-read thread: ${this.#startError}` });
    if (this.#idle) { clearTimeout(this.#idle); this.#idle = null; }
    try {
      t.worker.postMessage({ id: req.id, op: req.op as ReadOp, args: req.args } satisfies ReaderMessage);
    } catch (err) { // arguments that cannot be cloned
      return this.send({ id: req.id, ok: false, kind: 'internal', message: String((err as Error)?.message ?? err) });
    }
    if (t.pending.size === 0) t.worker.ref();
    t.pending.add(req.id);
  }

  /** Waits for the pending reads' answers, then ends the thread (and starts none after). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idle) { clearTimeout(this.#idle); this.#idle = null; }
    const t = this.#thread;
    if (t === null) return;
    while (t.pending.size > 0) await new Promise<void>((resolve) => this.#settled.push(resolve));
    if (this.#thread === t) await this.#end(t); // else it failed meanwhile: gone already
  }

  #startError = '';

  #start(): Thread | null {
    let worker: Worker;
    try {
      worker = new Worker(new URL('./reader-worker.js', import.meta.url), { workerData: { dbPath: this.dbPath } });
    } catch (err) {
      this.#startError = String((err as Error)?.message ?? err);
      return null;
    }
    worker.unref();
    const t: Thread = { worker, pending: new Set(), error: null };
    liveReaderThreads.add(worker);
    worker.on('message', (a: StoreResponse) => this.#answer(t, a));
    worker.on('error', (err) => { t.error ??= String(err?.message ?? err); });
    worker.on('exit', (code) => this.#exited(t, code));
    this.#thread = t;
    return t;
  }

  #answer(t: Thread, a: StoreResponse): void {
    if (!t.pending.delete(a.id)) return;
    this.send(a);
    if (t.pending.size === 0) this.#nothingPending(t);
  }

  #nothingPending(t: Thread): void {
    t.worker.unref();
    for (const s of this.#settled.splice(0)) s();
    if (this.#closed || this.#thread !== t) return;
    this.#idle = setTimeout(() => {
      this.#idle = null;
      if (this.#thread === t && t.pending.size === 0) void this.#end(t);
    }, readerThreadSettings.idleMs);
    this.#idle.unref();
  }

  /** Ends a thread with nothing pending: its connection closed, then the thread. */
  #end(t: Thread): Promise<void> {
    if (this.#thread === t) this.#thread = null;
    const exited = new Promise<void>((resolve) => t.worker.once('exit', () => resolve()));
    t.worker.ref(); // a close() awaiting it keeps the process until the thread has gone
    try { t.worker.postMessage('close' satisfies ReaderMessage); } catch { void t.worker.terminate(); }
    return exited;
  }

  /** The thread ended: by #end, or failing (its reads fail; the next heavy read starts a new one). */
  #exited(t: Thread, code: number): void {
    liveReaderThreads.delete(t.worker);
    if (this.#thread === t) this.#thread = null;
    if (t.pending.size === 0) return;
    const message = `heavy-read thread ended (${t.error ?? `exit code ${code}`})`;
    const ids = [...t.pending];
    t.pending.clear();
    for (const id of ids) this.send({ id, ok: false, kind: 'internal', message });
    this.#nothingPending(t);
  }
}
