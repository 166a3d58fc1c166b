// The main-thread end of the database thread (worker.ts): request id → promise (waiters.ts); the
// relay's client (StoreClient, client.ts, runs the same executor in-process: the CLI's). The worker is kept referenced
// only while requests are pending, so a forgotten close() never keeps a CLI process alive, yet
// the process cannot exit while a commit is still outstanding.
import { Worker } from 'node:worker_threads';
import type { Op, StoreConfig, StoreRequest, StoreResponse, WorkerFatal, WorkerReady } from './protocol.js';
import { CLOSED, Waiters } from './waiters.js';

export class WorkerClient {
  readonly #waiters: Waiters;

  /** Told of each commit that changed rows (the store's availability: the disk takes writes again). */
  onWrote: () => void = () => undefined;

  private constructor(private readonly worker: Worker, onDead: (reason: string, code?: string) => void) {
    this.#waiters = new Waiters(() => this.onWrote(), onDead);
    worker.on('message', (msg: StoreResponse | WorkerFatal) => ('fatal' in msg ? this.#fail(msg.message, msg.code) : this.#settle(msg)));
    worker.on('error', (err) => this.#fail(`database worker crashed: ${err.message}`));
    worker.on('exit', () => this.#fail('database worker exited'));
  }

  /** Starts the worker and waits until it has opened and migrated the database. */
  static start(config: StoreConfig, onDead: (reason: string, code?: string) => void): Promise<{ client: WorkerClient; swept: number }> {
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

  /**
   * `transfer`: buffers in `args` handed to the thread rather than copied (unusable here afterwards).
   * `keep`: the request's inline body comes back with the answer (StoreRequest in protocol.ts).
   * A request made while none is outstanding is posted at once (a lone request shares nothing, so
   * it does not wait for setImmediate). Behind an outstanding one, the requests made in the same
   * turn of the event loop go to the thread as one message (an array, in order), sent from
   * setImmediate: under load the HTTP API's concurrent requests made one postMessage
   * (serialisation, a wake-up of the thread) each for their suppression lookups and puts.
   */
  call(op: Op, args: unknown[], transfer: ArrayBuffer[] = [], keep = false): Promise<unknown> {
    if (this.#waiters.dead) return Promise.reject(this.#waiters.dead);
    const idle = this.#waiters.size === 0; // then the outbox is empty too (its requests are pending)
    if (idle) this.worker.ref();
    const { id, answer } = this.#waiters.add();
    const req: StoreRequest = keep ? { id, op, args, keep: true } : { id, op, args };
    if (idle) this.#post(req, transfer);
    else {
      if (this.#outbox.length === 0) setImmediate(this.#flush);
      this.#outbox.push({ req, transfer });
    }
    return answer;
  }

  #outbox: { req: StoreRequest; transfer: ArrayBuffer[] }[] = [];

  readonly #flush = (): void => {
    const out = this.#outbox;
    this.#outbox = [];
    if (out.length === 1) return this.#post(out[0]!.req, out[0]!.transfer);
    try {
      this.worker.postMessage(out.map((o) => o.req), [...new Set(out.flatMap((o) => o.transfer))]);
    } catch { // e.g. a buffer already transferred: each on its own, so that only its request fails
      for (const o of out) this.#post(o.req, o.transfer);
    }
  };

  #post(req: StoreRequest, transfer: ArrayBuffer[]): void {
    try { this.worker.postMessage(req, transfer); } catch (err) {
      this.#settle({ id: req.id, ok: false, kind: 'write', message: String((err as Error)?.message ?? err) });
    }
  }

  /** Commits what is in flight, closes the database and ends the thread. */
  async close(): Promise<void> {
    if (this.#waiters.dead) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    await this.call('close', []);
    this.#waiters.dead = CLOSED;
    this.worker.ref(); // stay alive until the thread has really gone
    await exited;
  }

  #settle(msg: StoreResponse): void {
    if (this.#waiters.settle(msg) && this.#waiters.size === 0) this.worker.unref();
  }

  /** The thread died without close(), or told why it must stop (WorkerFatal, then its exit): waiters.ts fails every request. */
  #fail(reason: string, code?: string): void {
    this.#waiters.fail(reason, code);
  }
}
