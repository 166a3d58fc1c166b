// The requests a store client (client.ts in-process, worker-client.ts to the database thread) is
// waiting on: id → promise, settled by the executor's answers, or all failed at once when the
// executor stops (fail-stop: every pending and later request fails as 'dead', a
// QueueUnavailableError: 451, HTTP 503, whatever its batch did, so no request of a batch whose
// fsync failed, or of a later one, is answered OK).
import type { StoreResponse } from './protocol.js';

export type Failure = Extract<StoreResponse, { ok: false }>;
interface Waiter { resolve(v: unknown): void; reject(f: Failure): void }

export const CLOSED: Failure = { id: 0, ok: false, kind: 'write', message: 'queue store is closed' };

export class Waiters {
  readonly #pending = new Map<number, Waiter>();
  #nextId = 1;
  /** Why every request now fails: the store was closed ('write'), or the executor stopped ('dead'). */
  dead: Failure | null = null;

  /** `onWrote`: an answer's commit changed rows and was fsynced. `onDead`: the executor stopped, once. */
  constructor(private readonly onWrote: () => void, private readonly onDead: (reason: string, code?: string) => void) {}

  get size(): number { return this.#pending.size; }

  /** A new request id and the promise its answer settles. */
  add(): { id: number; answer: Promise<unknown> } {
    const id = this.#nextId++;
    return { id, answer: new Promise((resolve, reject) => { this.#pending.set(id, { resolve, reject }); }) };
  }

  /** false when nobody waits for it (already failed). */
  settle(msg: StoreResponse): boolean {
    const waiter = this.#pending.get(msg.id);
    if (!waiter) return false;
    this.#pending.delete(msg.id);
    if (msg.ok && msg.wrote) this.onWrote();
    if (msg.ok) waiter.resolve(msg.result);
    else waiter.reject(msg);
    return true;
  }

  fail(reason: string, code?: string): void {
    if (this.dead === null) {
      this.dead = { id: 0, ok: false, kind: 'dead', message: reason, code };
      this.onDead(reason, code);
    }
    for (const w of this.#pending.values()) w.reject(this.dead);
    this.#pending.clear();
  }
}
