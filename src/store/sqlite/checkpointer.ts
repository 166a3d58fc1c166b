// The WAL checkpointer: a small thread of its own, started by the database thread (worker.ts), with
// its own read-write connection, that copies the WAL's committed frames into the database file
// (PASSIVE checkpoints) so that no group commit waits for a checkpoint.
//
// Why. With SQLite's automatic checkpoint (wal_autocheckpoint, 1,000 pages) the COMMIT that pushes
// the WAL past the limit runs the checkpoint itself, on the database thread: it copies the pages,
// fsyncs the WAL and the database file, and only then can the thread fsync the WAL and answer the
// batch, while every other request waits behind it (bench/README.md, fifteenth session, helper
// wal15). Here the writer runs with wal_autocheckpoint=0 once this thread is ready, and this thread
// checkpoints instead, in parallel with the writer: a PASSIVE checkpoint takes no lock a writer
// needs.
//
// Durability is unchanged: a checkpoint only copies frames that are committed (and, for every
// acknowledged commit, already fsynced by the database thread); SQLite syncs the WAL before it
// copies and the database file before it records the copy (nBackfill), and the WAL is only
// rewritten from its start after a checkpoint has recorded every frame. A crash at any point
// leaves the frames in the WAL, which the next open replays. A failed checkpoint (disk full, an
// I/O error) records nothing, so its frames stay in the WAL and the next checkpoint copies them
// again; SQLite's automatic checkpoint ignores its errors the same way. An fsync error on the WAL
// is also reported to the database thread's own descriptor (Linux reports a write-back error to
// every open file description), whose next fsync fails and stops the relay (worker.ts, "Fail-stop").
//
// Bounded WAL. The writer starts the WAL again from its first frame only when, at its next commit,
// every frame has been checkpointed, which a checkpoint from another thread rarely achieves under a
// steady stream of commits (they land while it copies), and a WAL that only grows makes every WAL
// fsync also commit the file's new blocks (measured: mean fsync 0.68 -> 1.06 ms, WAL at 40,000
// frames). A RESTART checkpoint from here waits for a moment with no writer and no reader in the
// WAL, which a busy relay never has (it waited seconds). So when a checkpoint here finds the WAL at
// `restartFrames` or more, it raises LONG; the database thread, after answering its next batch and
// outside any transaction, runs one PASSIVE checkpoint on the writer, which copies only the frames
// committed since this one (a few milliseconds' worth) and so leaves none behind: the writer's next
// commit starts the WAL again (checkpoint-thread.ts).
//
// The database thread counts its commits in a shared Int32Array (`state`); this thread sleeps on it
// (Atomics.wait) and checkpoints at most every `intervalMs` while commits come in. Stop: STOP set
// and notified; this thread closes its connection (never the last one: no checkpoint on close) and
// sets STOPPED, which the database thread waits for before it closes its own.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export const COMMITS = 0;
export const STOP = 1;
export const STOPPED = 2;
export const LONG = 3;
export const STATE_SLOTS = 4;

export interface CheckpointerConfig {
  dbPath: string;
  /** Int32Array(STATE_SLOTS) over a SharedArrayBuffer: COMMITS, STOP, STOPPED, LONG. */
  state: SharedArrayBuffer;
  /** At most one checkpoint per interval while commits come in. */
  intervalMs: number;
  /** WAL frames from which the database thread is asked to finish a checkpoint (the bound on the WAL's size). */
  restartFrames: number;
}

interface CheckpointRow { busy: number; log: number; checkpointed: number }

function run(cfg: CheckpointerConfig): void {
  const s = new Int32Array(cfg.state);
  let db: Database.Database | null = null;
  try {
    db = new Database(cfg.dbPath, { fileMustExist: true });
    const passive = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    parentPort!.postMessage({ ready: true });
    let seen = Atomics.load(s, COMMITS);
    while (Atomics.load(s, STOP) === 0) {
      Atomics.wait(s, COMMITS, seen); // until a commit (or stop)
      if (Atomics.load(s, STOP) !== 0) break;
      Atomics.wait(s, STOP, 0, cfg.intervalMs); // let commits gather (or stop)
      if (Atomics.load(s, STOP) !== 0) break;
      seen = Atomics.load(s, COMMITS);
      try {
        const r = passive.get() as CheckpointRow;
        if (r.log >= cfg.restartFrames) Atomics.store(s, LONG, 1);
      } catch { /* disk full, I/O error: the frames stay in the WAL for the next checkpoint (header) */ }
    }
  } finally {
    db?.close();
    Atomics.store(s, STOPPED, 1);
    Atomics.notify(s, STOPPED);
  }
}

if (parentPort && (workerData as { checkpointer?: boolean } | null)?.checkpointer) run(workerData as CheckpointerConfig);
