// Small bodies stored inline in the database: the BodyWriter that keeps a body in memory while it
// is at most INLINE_MAX_BYTES (spilling to a spool file beyond that), and the registry of finished
// in-memory bodies waiting for the put()/recordResults() that commits them with the message rows.
// An inline body costs no file syscall at all: no open/write/fsync/close, no unlink, no dir fsync;
// the group commit's one WAL fsync makes it durable.
import type { Clock } from '../../clock.js';
import { QueueWriteError } from '../../errors.js';
import type { BodyWriter } from '../store.js';
import { bodyPath, FileBodyWriter } from './spool.js';

/**
 * Bodies up to this size are stored in the database. 256 KiB covers nearly all real mail (the
 * typical message is a few KB) while bounding what a session holds in memory until its commit
 * (sessions × 256 KiB worst case) and what one blob adds to a group commit's WAL write; larger
 * bodies stream to a file, where the per-file syscalls are small next to the bytes moved.
 */
export const INLINE_MAX_BYTES = 256 * 1024;

/**
 * Finished inline bodies by queue id, taken by the commit that stores them (put, recordResults)
 * or dropped by abort(). One never taken (a caller that died between finish and put) is dropped
 * after `maxAgeMs`, like an unreferenced spool file by the orphan sweep.
 */
export class InlineBodies {
  readonly #bodies = new Map<string, { data: Uint8Array; at: number }>();
  constructor(private readonly clock: Clock, private readonly maxAgeMs: number) {}

  add(id: string, data: Uint8Array): void {
    const now = this.clock.now();
    for (const [old, b] of this.#bodies) { // insertion order = finish order: stop at the first young one
      if (now - b.at < this.maxAgeMs) break;
      this.#bodies.delete(old);
    }
    this.#bodies.set(id, { data, at: now });
  }

  /** The body, removed from the registry (its buffer is about to be transferred); undefined if none. */
  take(id: string): Uint8Array | undefined {
    const b = this.#bodies.get(id);
    this.#bodies.delete(id);
    return b?.data;
  }

  delete(id: string): void { this.#bodies.delete(id); }
}

/** Bodies from this size up are kept for their first delivery (KeptBodies); smaller ones are cheap to read back. */
export const KEEP_FOR_DELIVERY_MIN = 16 * 1024;
/** At most this many bytes of kept bodies; the oldest go first. */
export const KEPT_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Each large inline body the store committed (the buffer the executor hands back with put's
 * answer once SQLite has its copy: no copy of its own), kept until the first delivery attempt of
 * its message takes it (sqlite-store.ts readMessage), so that the attempt does not read the blob
 * back from SQLite (its overflow pages from the WAL, SQLite's copy and better-sqlite3's): a relay
 * delivers most mail seconds after it took it. The store is still asked for the header prefix and
 * whether the message is finished, without the blob. Taken once: the attempt owns the Buffer (it may detach it once written, releaseBytes in
 * delivery/smtp-connection.ts); a retry, or another attempt for other recipients, reads the store.
 * Bounded by KEPT_MAX_BYTES and `maxAgeMs` (a message nobody delivers soon: paused, scheduled for
 * later, or whose delivery runs elsewhere); the bytes are the very bytes committed, so a kept body
 * and the stored one cannot differ (a stored body is never rewritten).
 */
export class KeptBodies {
  readonly #bodies = new Map<string, { data: Buffer; at: number }>();
  #bytes = 0;
  constructor(private readonly clock: Clock, private readonly maxAgeMs: number, private readonly maxBytes = KEPT_MAX_BYTES) {}

  /** Keeps `data` (the caller's own copy) for message `id`, dropping the oldest beyond the bounds. */
  add(id: string, data: Buffer): void {
    if (data.byteLength > this.maxBytes) return;
    const now = this.clock.now();
    this.#drop(id);
    for (const [old, b] of this.#bodies) { // insertion order: stop at the first young one that fits
      if (now - b.at < this.maxAgeMs && this.#bytes + data.byteLength <= this.maxBytes) break;
      this.#drop(old);
    }
    this.#bodies.set(id, { data, at: now });
    this.#bytes += data.byteLength;
  }

  /** The kept body, removed (the caller owns it now); undefined if none. */
  take(id: string): Buffer | undefined {
    const b = this.#bodies.get(id);
    if (!b) return undefined;
    this.#drop(id);
    return b.data;
  }

  get bytes(): number { return this.#bytes; }

  #drop(id: string): void {
    const b = this.#bodies.get(id);
    if (!b) return;
    this.#bodies.delete(id);
    this.#bytes -= b.data.byteLength;
  }
}

/** Chunks at least this long are kept by reference; shorter ones are copied into a shared run. */
const KEEP_AT_LEAST = 4 * 1024;
const RUN_CAPACITY = 16 * 1024;

/**
 * Keeps the body's chunks until finish(), which copies them once into one buffer of the exact size
 * that owns its ArrayBuffer (never the shared Buffer pool), so the executor can hand it back to be
 * kept, or free it at once, without a second copy. A chunk of KEEP_AT_LEAST bytes or more is kept by reference
 * (callers hand over immutable bytes: a socket read's view, which the DKIM tee holds as well);
 * shorter ones are copied into runs of RUN_CAPACITY, so that a client sending its body a byte a
 * segment costs 16 KiB runs, not an object per byte (and a long chunk between short ones does not
 * end a run: the short ones after it go on filling it). Doubling one buffer instead cost a 100 KB body
 * 112 KiB of dead buffers on the way, which waited for full collections (bench/README.md, tenth session).
 * Past INLINE_MAX_BYTES it writes what it has to a FileBodyWriter and delegates from then on.
 */
export class InlineBodyWriter implements BodyWriter {
  #chunks: Uint8Array[] = [];
  /** Where short chunks are copied; [#runFrom, #runLen) is not yet in #chunks. */
  #run: Buffer | null = null;
  #runFrom = 0;
  #runLen = 0;
  #len = 0;
  #file: FileBodyWriter | null = null;
  #done = false;

  constructor(private readonly spoolDir: string, private readonly id: string, private readonly registry: InlineBodies) {
    bodyPath(spoolDir, id); // the id may become a file name: refuse an unsafe one now, as a file writer would
  }

  get bytesWritten(): number { return this.#file ? this.#file.bytesWritten : this.#len; }

  write(chunk: Buffer): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    if (this.#file) return this.#file.write(chunk);
    if (this.#len + chunk.length > INLINE_MAX_BYTES) return this.#spill(chunk);
    if (chunk.length >= KEEP_AT_LEAST) {
      this.#endRun();
      this.#chunks.push(chunk);
    } else if (chunk.length > 0) {
      if (!this.#run || this.#runLen + chunk.length > this.#run.length) {
        this.#endRun();
        this.#run = Buffer.allocUnsafeSlow(RUN_CAPACITY);
        this.#runFrom = this.#runLen = 0;
      }
      this.#run.set(chunk, this.#runLen);
      this.#runLen += chunk.length;
    }
    this.#len += chunk.length;
    return Promise.resolve();
  }

  /** Inline: registers the bytes for the commit, no I/O. Spilled: fsyncs and closes the file. */
  finish(): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    this.#done = true;
    if (this.#file) return this.#file.finish();
    this.#endRun();
    const body = new Uint8Array(new ArrayBuffer(this.#len));
    let at = 0;
    for (const c of this.#chunks) { body.set(c, at); at += c.length; }
    this.#chunks = [];
    this.#run = null;
    this.registry.add(this.id, body);
    return Promise.resolve();
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#chunks = [];
    this.#run = null;
    this.registry.delete(this.id);
    await this.#file?.abort();
  }

  /** The short chunks copied since the last kept chunk become one (the run's rest stays for the next ones). */
  #endRun(): void {
    if (!this.#run || this.#runLen === this.#runFrom) return;
    this.#chunks.push(this.#run.subarray(this.#runFrom, this.#runLen));
    this.#runFrom = this.#runLen;
  }

  #spill(chunk: Buffer): Promise<void> {
    const file = new FileBodyWriter(this.spoolDir, this.id);
    this.#file = file;
    this.#endRun();
    const held = this.#chunks.length > 0 ? Buffer.concat(this.#chunks) : null;
    this.#chunks = [];
    this.#run = null;
    const writes = [...(held ? [file.write(held)] : []), file.write(chunk)]; // FileBodyWriter keeps their order
    return Promise.all(writes).then(() => undefined);
  }
}
