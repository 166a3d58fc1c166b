// The executor's two connections (one writer, one reader) on the queue database: file
// modes, pragmas, migration and the policies the writer's triggers read.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { setBreakerPolicy } from './breaker-ops.js';
import { setSoftBouncePolicy } from './effect-ops.js';
import { migrate } from './migrations.js';
import type { StoreConfig } from './protocol.js';
import type { Db } from './rows.js';

/**
 * The database holds DKIM private keys and password hashes: owner-only (0600). SQLite gives the
 * -wal and -shm files the database file's mode, so creating it 0600 first covers them too.
 */
function restrictDbFiles(dbPath: string): void {
  fs.closeSync(fs.openSync(dbPath, 'a', 0o600));
  for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) {
    try { fs.chmodSync(f, 0o600); } catch (err) {
      if (!['ENOENT', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
}

/**
 * Page cache per connection, in KiB. better-sqlite3 builds SQLite with a 16 MB default
 * (SQLITE_DEFAULT_CACHE_SIZE=-16000), not SQLite's 2 MB, and the cache only grows: on a relay every
 * body written (writer) and read back for delivery (reader, bodySource) passes through it once, so
 * both caches filled towards 16 MB of pages nobody reads again — the growth of the relay's peak
 * memory with the number of messages sent (bench/README.md "Memory, fifth session"). The working
 * set of the queue's own tables and indexes is far smaller; the OS page cache keeps the rest.
 * 2 MB and 1 MB since the nineteenth session (4 and 2 before): peak anonymous memory −2.2 MB on
 * iii-1k and ~−2 MB more on ii-500 (both caches full of body pages there), with the same number of
 * read syscalls per message on i-3k (a page the cache dropped comes back from the OS page cache
 * or the WAL with one pread, and few of them are read again).
 */
export const WRITER_CACHE_KIB = 2048;
export const READER_CACHE_KIB = 1024;

export function openConnections(cfg: StoreConfig): { writer: Db; reader: Db } {
  restrictDbFiles(cfg.dbPath);
  const writer = new Database(cfg.dbPath);
  writer.pragma('journal_mode = WAL');
  writer.pragma('synchronous = FULL');
  writer.pragma('busy_timeout = 5000');
  writer.pragma('foreign_keys = ON');
  migrate(writer);
  // After the migrations (committed with FULL): from now on a COMMIT only appends to the WAL and
  // the executor fsyncs the WAL itself, except after claim-only commits (executor.ts, "Durability").
  writer.pragma('synchronous = NORMAL');
  // Each write request runs in a savepoint of the open group commit, so SQLite keeps the pages it
  // changes in a sub-journal; with the default temp_store that spills past 64 KiB into a temp file
  // (/var/tmp/etilqs_*), opened, written page by page and closed per batch. MEMORY keeps it in RAM
  // (bounded by the batch): relay CPU about x0.6 on intake and delivery (bench/README.md, "SQLite
  // temp_store"). Set after migrate: a migration's statement over a whole table keeps its
  // statement journal on disk. Sorts spill to temp files whatever temp_store says; the reader
  // writes no journal, so it keeps the default (its ephemeral tables stay on disk past the cache).
  writer.pragma('temp_store = MEMORY');
  // A write lock held by another connection is waited for from timers, not in SQLite's busy
  // handler, which would sleep on the executor's event loop (the caller's, in-process: executor.ts, BUSY_WAIT_MS).
  writer.pragma('busy_timeout = 0');
  writer.pragma(`cache_size = ${-WRITER_CACHE_KIB}`);
  setSoftBouncePolicy(writer, cfg.softBounces);
  setBreakerPolicy(writer, cfg.breakers);
  return { writer, reader: openReader(cfg.dbPath) };
}

/** A read-only connection: the executor's reader, and the heavy-read thread's (reader-worker.ts). */
export function openReader(dbPath: string): Db {
  const reader = new Database(dbPath, { readonly: true, fileMustExist: true });
  reader.pragma('busy_timeout = 5000');
  reader.pragma(`cache_size = ${-READER_CACHE_KIB}`);
  return reader;
}
