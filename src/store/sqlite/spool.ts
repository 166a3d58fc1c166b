// The spool: one file per message body, dataDir/spool/<queue id>. Owns body file names, the
// streaming BodyWriter (fsync on finish), readBody, and the helpers the executor uses
// around a commit (directory fsync before it, unlinks after it, orphan sweep). Only bodies larger
// than INLINE_MAX_BYTES (inline-body.ts) get a file; smaller ones live in the database. A write
// that fails because the disk is full or failing is a QueueUnavailableError (451, never a crash).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { QueueUnavailableError, QueueWriteError } from '../../errors.js';
import type { BodyWriter } from '../store.js';
import { isUnavailable } from './availability.js';

/** Queue ids are file names here: refuse anything that could escape the directory. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function bodyPath(spoolDir: string, id: string): string {
  if (!SAFE_ID.test(id)) throw new QueueWriteError('invalid queue id');
  return path.join(spoolDir, id);
}

export function readBodyFile(spoolDir: string, id: string): Readable {
  return fs.createReadStream(bodyPath(spoolDir, id));
}

/**
 * Streams a body into its spool file. Writes are serialized (each resolves when the bytes
 * reached the kernel, so awaiting write() is the backpressure); finish() fsyncs and closes.
 * The directory entry is made durable later, by the executor, once per group commit.
 */
export class FileBodyWriter implements BodyWriter {
  #file: string;
  #handle: Promise<fsp.FileHandle> | null = null;
  #tail: Promise<void> = Promise.resolve();
  #done = false;
  #bytes = 0;

  constructor(spoolDir: string, id: string) {
    this.#file = bodyPath(spoolDir, id);
  }

  get bytesWritten(): number { return this.#bytes; }

  write(chunk: Buffer): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    return this.#enqueue(async () => {
      const fh = await this.#open();
      let off = 0;
      while (off < chunk.length) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
        off += bytesWritten;
      }
      this.#bytes += chunk.length;
    });
  }

  finish(): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    this.#done = true;
    return this.#enqueue(async () => {
      const fh = await this.#open();
      try { await fh.sync(); } finally { await fh.close(); }
    });
  }

  async abort(): Promise<void> {
    this.#done = true;
    await this.#tail.catch(() => undefined);
    if (this.#handle) await (await this.#handle.catch(() => null))?.close().catch(() => undefined);
    await fsp.rm(this.#file, { force: true });
  }

  #open(): Promise<fsp.FileHandle> {
    this.#handle ??= fsp.open(this.#file, 'wx', 0o600); // 'wx': never overwrite another message's body
    return this.#handle;
  }

  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(step).catch((err: unknown) => {
      if (err instanceof QueueWriteError) throw err;
      // A full or failing disk: "try again later" like the database on the same disk (451, 503).
      if (isUnavailable((err as NodeJS.ErrnoException)?.code)) throw new QueueUnavailableError('could not write message body: storage unavailable', { cause: err });
      throw new QueueWriteError('could not write message body', { cause: err });
    });
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

// ---- synchronous helpers for the executor: the orphan sweep at open, and the spool directory's fsync
// before a commit that references a new body file (bodies over INLINE_MAX_BYTES only) ----

/** fsync a directory so entries created in it (new body files) survive a power loss. */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/**
 * Removes bodies without blocking the calling thread (libuv's pool does the unlinks). Failures
 * are left to the orphan sweep, which also covers a crash before this ran.
 */
export async function removeBodies(spoolDir: string, ids: readonly string[]): Promise<void> {
  await Promise.all(ids.map(async (id) => {
    try { await fsp.rm(bodyPath(spoolDir, id), { force: true }); } catch { /* the sweep retries */ }
  }));
}

export function removeBodiesSync(spoolDir: string, ids: Iterable<string>): void {
  for (const id of ids) {
    try { fs.rmSync(bodyPath(spoolDir, id), { force: true }); } catch { /* the sweep retries */ }
  }
}

/** Spool files last modified before `olderThan` (ms since epoch). */
export function listOldBodiesSync(spoolDir: string, olderThan: number): string[] {
  const old: string[] = [];
  for (const name of fs.readdirSync(spoolDir)) {
    if (!SAFE_ID.test(name)) continue;
    try {
      if (fs.statSync(path.join(spoolDir, name)).mtimeMs < olderThan) old.push(name);
    } catch { /* removed meanwhile */ }
  }
  return old;
}
