// The database thread's own descriptor on the WAL file (`queue.db-wal`), fsynced after a commit
// that must be durable: the writer runs with synchronous=NORMAL, so SQLite itself syncs the WAL
// only at checkpoints (worker.ts says which commits are synced and why).
//
// SQLite keeps one WAL file for as long as a connection is open: after a checkpoint it writes
// from the start of the same file again, and journal_size_limit truncates it in place. It deletes
// the file only when the last connection closes, and this thread's two connections stay open
// until close. So the descriptor is opened once, after the connections (the file exists by then),
// and closed at close. If the file was nevertheless unlinked (no link left: an outside tool
// removed or replaced it), an fsync of the old inode would prove nothing, so each sync checks the
// link count and opens the path again; the check is one fstat, far below the fsync's cost.
import fs from 'node:fs';

export class WalSync {
  #fd: number | null = null;

  constructor(private readonly walPath: string) {}

  /** Makes every committed frame of the WAL durable; throws the fsync's error (EIO, ENOSPC…). */
  sync(): void {
    if (this.#fd !== null && fs.fstatSync(this.#fd).nlink === 0) this.close();
    this.#fd ??= fs.openSync(this.walPath, 'r');
    fs.fsyncSync(this.#fd);
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    fs.closeSync(fd);
  }
}
