// The executor's own descriptor on the WAL file (`queue.db-wal`), fsynced on libuv's thread pool
// after a commit that must be durable: the writer runs with synchronous=NORMAL, so SQLite itself
// syncs the WAL only at checkpoints (executor.ts says which commits are synced and why).
//
// SQLite keeps one WAL file for as long as a connection is open: after a checkpoint it writes
// from the start of the same file again, and journal_size_limit truncates it in place. It deletes
// the file only when the last connection closes, and the executor's two connections stay open
// until close. So the descriptor is opened once, at the first sync (the file exists by then), and
// closed at close. If the file was nevertheless unlinked (no link left: an outside tool removed or
// replaced it), an fsync of the old inode would prove nothing, so each sync checks the link count
// and opens the path again; the check is one fstat, far below the fsync's cost. One sync at a time
// (the executor's AnswerPipeline waits for each before the next), so the descriptor is never
// closed under a running fsync.
import fs from 'node:fs';

export class WalSync {
  #fd: number | null = null;

  constructor(private readonly walPath: string) {}

  /** Makes every frame appended to the WAL so far durable; `done` gets the fsync's error (EIO, ENOSPC…). */
  sync(done: (err: Error | null) => void): void {
    try {
      if (this.#fd !== null && fs.fstatSync(this.#fd).nlink === 0) this.close();
      this.#fd ??= fs.openSync(this.walPath, 'r');
    } catch (err) {
      process.nextTick(done, err as Error);
      return;
    }
    fs.fsync(this.#fd, (err) => done(err));
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    fs.closeSync(fd);
  }
}
