// The main-thread end of the database worker: request id → promise. The worker is kept referenced
// only while requests are pending, so a forgotten close() never keeps a CLI process alive, yet
// the process cannot exit while a commit is still outstanding.
// The calls made in one turn of the event loop travel in one postMessage (an array, in call order),
// and the worker answers each of its batches (a group commit, a run of reads) in one message too:
// a postMessage costs a structured clone and a wake-up of the other thread, whatever its size.
import { Worker } from 'node:worker_threads';
import type { Op, WorkerConfig, WorkerReady, WorkerRequest, WorkerResponse } from './protocol.js';

type Failure = Extract<WorkerResponse, { ok: false }>;
interface Waiter { resolve(v: unknown): void; reject(f: Failure): void }

export class WorkerClient {
  #pending = new Map<number, Waiter>();
  #nextId = 1;
  #dead: string | null = null;
  /** Requests not yet posted (sent at the next check phase, setImmediate) and their transfer lists. */
  #outbox: WorkerRequest[] = [];
  #outboxTransfers: ArrayBuffer[][] = [];
  #flushScheduled = false;
  readonly #flush = () => this.#post();

  /** Told of each commit that changed rows (the store's availability: the disk takes writes again). */
  onWrote: () => void = () => undefined;

  private constructor(private readonly worker: Worker, private readonly onDead: (reason: string) => void) {
    worker.on('message', (msgs: WorkerResponse[]) => { for (const m of msgs) this.#settle(m); });
    worker.on('error', (err) => this.#fail(`database worker crashed: ${err.message}`));
    worker.on('exit', () => this.#fail('database worker exited'));
  }

  /** Starts the worker and waits until it has opened and migrated the database. */
  static start(config: WorkerConfig, onDead: (reason: string) => void): Promise<{ client: WorkerClient; swept: number }> {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: config });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (ready: WorkerReady) => {
        worker.off('error', onError);
        if (!ready.ready) {
          void worker.terminate();
          return reject(Object.assign(new Error(ready.message), { code: ready.code }));
        }
        worker.unref();
        resolve({ client: new WorkerClient(worker, onDead), swept: ready.swept });
      });
    });
  }

  /** `transfer`: buffers in `args` handed to the thread rather than copied (unusable here afterwards). */
  call(op: Op, args: unknown[], transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.#dead) return Promise.reject(failure(this.#dead));
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push({ id, op, args });
      this.#outboxTransfers.push(transfer);
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Posts the calls of this turn in one message. */
  #post(): void {
    this.#flushScheduled = false;
    const batch = this.#outbox;
    const transfers = this.#outboxTransfers;
    this.#outbox = [];
    this.#outboxTransfers = [];
    if (this.#dead) return; // #fail rejected them
    try {
      this.worker.postMessage(batch, transfers.length === 1 ? transfers[0] : transfers.flat());
    } catch { // e.g. a buffer already transferred: nothing was sent; one by one, so only the culprit fails
      batch.forEach((req, i) => {
        try { this.worker.postMessage([req], transfers[i]); } catch (err) {
          this.#settle({ id: req.id, ok: false, kind: 'write', message: String((err as Error)?.message ?? err) });
        }
      });
    }
  }

  /** Commits what is in flight, closes the database and ends the thread. */
  async close(): Promise<void> {
    if (this.#dead) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    await this.call('close', []);
    this.#dead = 'queue store is closed';
    this.worker.ref(); // stay alive until the thread has really gone
    await exited;
  }

  #settle(msg: WorkerResponse): void {
    const waiter = this.#pending.get(msg.id);
    if (!waiter) return;
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0) this.worker.unref();
    if (msg.ok && msg.wrote) this.onWrote();
    if (msg.ok) waiter.resolve(msg.result);
    else waiter.reject(msg);
  }

  /** The thread died without close(): every pending and later request fails (451 for puts). */
  #fail(reason: string): void {
    if (this.#dead === null) this.onDead(reason);
    this.#dead ??= reason;
    for (const w of this.#pending.values()) w.reject(failure(reason));
    this.#pending.clear();
  }
}

const failure = (message: string): Failure => ({ id: 0, ok: false, kind: 'write', message });
