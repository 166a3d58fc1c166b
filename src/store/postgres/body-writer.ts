// Message bodies on their way into PostgreSQL: a BodyWriter that holds the body in memory (up to
// a cap, the configured maximum message size), and the registry of finished bodies waiting for
// the put()/recordResults() transaction that inserts them with the message rows. Nothing touches
// local disk, so any node can deliver what any other node accepted.
import type { Clock } from '../../clock.js';
import { QueueWriteError } from '../../errors.js';
import type { BodyWriter } from '../store.js';

/**
 * Finished bodies by queue id, taken by the commit that stores them or dropped by abort(). One
 * never taken (a caller that died between finish and put) is dropped after `maxAgeMs`.
 */
export class PendingBodies {
  readonly #bodies = new Map<string, { data: Buffer; at: number }>();
  constructor(private readonly clock: Clock, private readonly maxAgeMs: number) {}

  add(id: string, data: Buffer): void {
    const now = this.clock.now();
    for (const [old, b] of this.#bodies) { // insertion order = finish order: stop at the first young one
      if (now - b.at < this.maxAgeMs) break;
      this.#bodies.delete(old);
    }
    this.#bodies.set(id, { data, at: now });
  }

  take(id: string): Buffer | undefined {
    const b = this.#bodies.get(id);
    this.#bodies.delete(id);
    return b?.data;
  }

  delete(id: string): void { this.#bodies.delete(id); }
}

/** Collects chunks (copied: the caller may reuse its buffers) and registers them on finish(). */
export class MemoryBodyWriter implements BodyWriter {
  #chunks: Buffer[] = [];
  #len = 0;
  #done = false;

  constructor(private readonly id: string, private readonly registry: PendingBodies, private readonly maxBytes: number) {}

  get bytesWritten(): number { return this.#len; }

  write(chunk: Buffer): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    if (this.#len + chunk.length > this.maxBytes) {
      return Promise.reject(new QueueWriteError(`message body exceeds ${this.maxBytes} bytes`));
    }
    this.#chunks.push(Buffer.from(chunk));
    this.#len += chunk.length;
    return Promise.resolve();
  }

  finish(): Promise<void> {
    if (this.#done) return Promise.reject(new QueueWriteError('body writer already closed'));
    this.#done = true;
    this.registry.add(this.id, Buffer.concat(this.#chunks, this.#len));
    this.#chunks = [];
    return Promise.resolve();
  }

  abort(): Promise<void> {
    this.#done = true;
    this.#chunks = [];
    this.registry.delete(this.id);
    return Promise.resolve();
  }
}
