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
import os from 'node:os';

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

/**
 * How many frames the WAL holds: `mxFrame` of the WAL-index header, the first 48 bytes of
 * `queue.db-shm` (https://www.sqlite.org/walformat.html, "The WAL-Index Header": offset 16, a
 * 32-bit integer in the machine's byte order). The database thread checkpoints when it passes
 * CHECKPOINT_FRAMES, after a batch's answers rather than in its COMMIT (worker.ts, "Checkpoints").
 * One pread of 20 bytes per commit. null when the file cannot be read (the caller then leaves
 * SQLite's automatic checkpoint on).
 */
export class WalFrames {
  #fd: number | null = null;
  readonly #buf = Buffer.alloc(20);
  constructor(private readonly shmPath: string) {}

  frames(): number | null {
    try {
      this.#fd ??= fs.openSync(this.shmPath, 'r');
      if (fs.readSync(this.#fd, this.#buf, 0, 20, 0) < 20) return null;
      return os.endianness() === 'LE' ? this.#buf.readUInt32LE(16) : this.#buf.readUInt32BE(16);
    } catch {
      return null;
    }
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    fs.closeSync(fd);
  }
}

/** SQLite's default wal_autocheckpoint: the WAL's size, in frames, from which the database thread checkpoints. */
export const CHECKPOINT_FRAMES = 1000;
