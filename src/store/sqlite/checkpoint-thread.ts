// The database thread's end of the WAL checkpointer (checkpointer.ts, which says why and what it
// keeps true). Started at the first commit that changed rows (a CLI process that only reads never
// starts it). Until the thread says it is ready, and again if it ever fails, the writer keeps
// SQLite's automatic checkpoint, so the WAL is checkpointed at every moment by one or the other.
import { Worker } from 'node:worker_threads';
import { COMMITS, LONG, STATE_SLOTS, STOP, STOPPED, type CheckpointerConfig } from './checkpointer.js';
import type { Db } from './rows.js';

/** SQLite's default wal_autocheckpoint, which the writer runs with while no checkpointer is ready. */
export const AUTO_CHECKPOINT_PAGES = 1000;
/** At most one checkpoint per interval while commits come in. */
export const CHECKPOINT_INTERVAL_MS = 200;
/**
 * The WAL's bound, in frames (pages): from 4,096 (16 MiB with 4 KiB pages) the database thread
 * finishes a checkpoint itself so that the WAL starts again (checkpointer.ts, "Bounded WAL"). Four
 * times SQLite's automatic checkpoint: the file is reused in place at that size, and the database
 * thread's own checkpoint (a few milliseconds of frames, one fsync of the database file) comes a
 * quarter as often.
 */
export const RESTART_FRAMES = 4096;

const DEFAULT_CHECKPOINTS = { intervalMs: CHECKPOINT_INTERVAL_MS, restartFrames: RESTART_FRAMES };

export class CheckpointThread {
  readonly #state = new Int32Array(new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT));
  #worker: Worker | null = null;
  /** The writer runs with wal_autocheckpoint=0 (the thread said it is ready and has not failed since). */
  #active = false;
  #stopped = false;

  readonly #opts: { intervalMs: number; restartFrames: number };
  constructor(private readonly writer: Db, private readonly dbPath: string, opts?: { intervalMs: number; restartFrames: number }) {
    this.#opts = opts ?? DEFAULT_CHECKPOINTS;
  }

  /**
   * After each commit that changed rows, its answers sent and no transaction open: starts the thread
   * at the first, then wakes it; when the thread found the WAL long, finishes a checkpoint here so
   * that the writer's next commit starts the WAL again (checkpointer.ts, "Bounded WAL").
   */
  committed(): void {
    if (this.#stopped) return;
    if (this.#worker === null) this.#start();
    if (Atomics.load(this.#state, LONG) !== 0) {
      Atomics.store(this.#state, LONG, 0);
      // SQLITE_BUSY (the thread is checkpointing) is a row with busy=1, not an error; a failure
      // (disk full) leaves the frames for the next checkpoint, as SQLite's automatic one does
      try { this.writer.pragma('wal_checkpoint(PASSIVE)'); } catch { /* the next one */ }
    }
    Atomics.add(this.#state, COMMITS, 1);
    Atomics.notify(this.#state, COMMITS);
  }

  #start(): void {
    const cfg: CheckpointerConfig & { checkpointer: true } = {
      checkpointer: true, dbPath: this.dbPath, state: this.#state.buffer as SharedArrayBuffer, ...this.#opts,
    };
    const w = new Worker(new URL('./checkpointer.js', import.meta.url), { workerData: cfg });
    w.unref(); // never keeps the database thread alive; ended with it
    w.on('message', (m: { ready?: boolean }) => {
      if (m.ready !== true || this.#stopped) return;
      this.writer.pragma('wal_autocheckpoint = 0');
      this.#active = true;
    });
    const lost = (): void => {
      if (this.#stopped) return;
      this.#stopped = true; // not started again: SQLite's automatic checkpoint from now on
      if (this.#active) this.writer.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
      this.#active = false;
    };
    w.on('error', lost);
    w.on('exit', lost);
    this.#worker = w;
  }

  /** Ends the thread and waits until its connection is closed (before the writer's, which must be the last). */
  stop(): void {
    const started = this.#worker !== null && !this.#stopped;
    this.#stopped = true;
    if (!started) return;
    Atomics.store(this.#state, STOP, 1);
    Atomics.notify(this.#state, STOP);
    Atomics.notify(this.#state, COMMITS);
    Atomics.wait(this.#state, STOPPED, 0, 10_000);
  }

  /** For tests: whether the writer's automatic checkpoint is off in favour of the thread. */
  get active(): boolean { return this.#active; }
}
