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

/** Body bytes are copied into slabs of this size as they arrive, reused from message to message. */
const SLAB_BYTES = 16 * 1024;
/** At most this many idle slabs are kept (2 MiB): past a burst, the extra ones are left to the GC. */
const IDLE_SLABS_MAX = 128;
const idleSlabs: Buffer[] = [];

function takeSlab(): Buffer { return idleSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES); }

/** Slabs whose bytes were copied out (finish, spill) or dropped (abort): no view of them ever left the writer. */
function giveSlabs(slabs: Buffer[]): void {
  for (const s of slabs) {
    if (idleSlabs.length >= IDLE_SLABS_MAX) return;
    idleSlabs.push(s);
  }
}

/**
 * Copies each chunk at once into slabs taken from a process-wide pool, and at finish() copies them
 * into one buffer of the exact size that owns its ArrayBuffer (never the shared Buffer pool), so the
 * bytes go to the database thread by transfer without another copy; the slabs go back to the pool.
 * Why copy at once: a chunk kept by reference is a socket read's own ArrayBuffer, held until the
 * end of DATA; with 20 sessions in flight most were alive across two scavenges, promoted, and their
 * malloc'd bytes then waited, dead, for a full collection (helper gc10's finding, tenth session; and
 * large13's, thirteenth). Copied at once, the socket's buffer dies young and a scavenge frees it,
 * while the slabs live on and are never garbage. No view of a slab leaves the writer, so reusing one
 * can never change bytes someone still reads. (Doubling one buffer instead cost a 100 KB body 112 KiB
 * of dead buffers on the way; keeping short chunks by reference cost an object per byte for a client
 * sending a byte a segment: both avoided here.) Past INLINE_MAX_BYTES it writes what it has to a
 * FileBodyWriter and delegates from then on.
 */
export class InlineBodyWriter implements BodyWriter {
  #slabs: Buffer[] = [];
  /** Bytes used in the last slab; SLAB_BYTES (full) when a write must take a new one. */
  #fill = SLAB_BYTES;
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
    for (let from = 0; from < chunk.length;) {
      if (this.#fill === SLAB_BYTES) { this.#slabs.push(takeSlab()); this.#fill = 0; }
      const n = Math.min(SLAB_BYTES - this.#fill, chunk.length - from);
      chunk.copy(this.#slabs[this.#slabs.length - 1]!, this.#fill, from, from + n);
      this.#fill += n;
      from += n;
    }
    this.#len += chunk.length;
    return Promise.resolve();
  }

  /** Inline: registers the bytes for the commit, no I/O. Spilled: fsyncs and closes the file. */
  finish(): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    this.#done = true;
    if (this.#file) return this.#file.finish();
    const body = new Uint8Array(new ArrayBuffer(this.#len));
    this.#copySlabs(body);
    this.registry.add(this.id, body);
    return Promise.resolve();
  }

  async abort(): Promise<void> {
    this.#done = true;
    this.#releaseSlabs();
    this.registry.delete(this.id);
    await this.#file?.abort();
  }

  /** The bytes written so far, in order, into `out` (#len bytes long); the slabs go back to the pool. */
  #copySlabs(out: Uint8Array): void {
    let at = 0;
    for (const slab of this.#slabs) {
      const n = Math.min(SLAB_BYTES, this.#len - at);
      out.set(n === SLAB_BYTES ? slab : slab.subarray(0, n), at);
      at += n;
    }
    this.#releaseSlabs();
  }

  #releaseSlabs(): void {
    giveSlabs(this.#slabs);
    this.#slabs = [];
    this.#fill = SLAB_BYTES;
  }

  #spill(chunk: Buffer): Promise<void> {
    const file = new FileBodyWriter(this.spoolDir, this.id);
    this.#file = file;
    let held: Buffer | null = null;
    if (this.#len > 0) {
      held = Buffer.allocUnsafeSlow(this.#len); // the file writer may keep it until written: not a slab
      this.#copySlabs(held);
    }
    const writes = [...(held ? [file.write(held)] : []), file.write(chunk)]; // FileBodyWriter keeps their order
    return Promise.all(writes).then(() => undefined);
  }
}
