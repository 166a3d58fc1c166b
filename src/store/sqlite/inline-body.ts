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

const FIRST_CAPACITY = 16 * 1024;

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

/**
 * Copies chunks into one growing buffer that owns its ArrayBuffer (never the shared Buffer pool),
 * so finish() can hand the bytes to the database thread by transfer, without a second copy.
 * Past INLINE_MAX_BYTES it writes what it has to a FileBodyWriter and delegates from then on.
 */
export class InlineBodyWriter implements BodyWriter {
  #buf: Buffer | null = null;
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
    this.#reserve(this.#len + chunk.length).set(chunk, this.#len);
    this.#len += chunk.length;
    return Promise.resolve();
  }

  /** Inline: registers the bytes for the commit, no I/O. Spilled: fsyncs and closes the file. */
  finish(): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    this.#done = true;
    if (this.#file) return this.#file.finish();
    this.registry.add(this.id, this.#buf ? new Uint8Array(this.#buf.buffer, 0, this.#len) : new Uint8Array(0));
    this.#buf = null;
    return Promise.resolve();
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#buf = null;
    this.registry.delete(this.id);
    await this.#file?.abort();
  }

  /** The buffer, grown (doubling, up to the limit) to hold `size` bytes. */
  #reserve(size: number): Buffer {
    if (this.#buf && this.#buf.length >= size) return this.#buf;
    const grown = Buffer.allocUnsafeSlow(Math.min(INLINE_MAX_BYTES, Math.max(size, 2 * (this.#buf?.length ?? FIRST_CAPACITY / 2))));
    this.#buf?.copy(grown, 0, 0, this.#len);
    this.#buf = grown;
    return grown;
  }

  #spill(chunk: Buffer): Promise<void> {
    const file = new FileBodyWriter(this.spoolDir, this.id);
    this.#file = file;
    const held = this.#buf?.subarray(0, this.#len);
    this.#buf = null;
    const writes = [...(held ? [file.write(held)] : []), file.write(chunk)]; // FileBodyWriter keeps their order
    return Promise.all(writes).then(() => undefined);
  }
}
