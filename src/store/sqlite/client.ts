// SqliteQueueStore's end of an in-process executor (executor.ts; `inProcess`: the CLI's, and the
// relay's with storage.sqliteThread: main, which adds the heavy-read thread; the relay's default
// runs in worker.ts, through worker-client.ts): request id → promise. The executor runs
// on this thread; a request's statements run when it is called (a write in the open group commit),
// and its answer arrives when the answer pipeline releases it (after the WAL fsync its batch, or
// an earlier one, waits for). Nothing here keeps the process alive: only a pending commit
// (setImmediate) or fsync (libuv) does, so a forgotten close() never keeps a CLI process alive,
// yet the process cannot exit while a commit is still outstanding.
import { StoreExecutor } from './executor.js';
import type { Op, StoreConfig, StoreRequest } from './protocol.js';
import { CLOSED, Waiters } from './waiters.js';

export class StoreClient {
  readonly #waiters: Waiters;
  #executor: StoreExecutor | null = null;

  /** Told of each commit that changed rows (the store's availability: the disk takes writes again). */
  onWrote: () => void = () => undefined;

  private constructor(onDead: (reason: string, code?: string) => void) {
    this.#waiters = new Waiters(() => this.onWrote(), onDead);
  }

  /** Opens and migrates the database (synchronously, on this thread); rejects when it cannot. */
  static async start(config: StoreConfig, onDead: (reason: string, code?: string) => void): Promise<{ client: StoreClient; swept: number }> {
    const client = new StoreClient(onDead);
    const waiters = client.#waiters;
    const { executor, swept } = StoreExecutor.open(config, (r) => { waiters.settle(r); }, (reason, code) => waiters.fail(reason, code));
    client.#executor = executor;
    return { client, swept };
  }

  /**
   * `transfer`: buffers in `args` the caller hands over (it never reads them again): the executor
   * may free them once their statements have run. `keep`: the request's inline body comes back
   * with the answer (StoreRequest in protocol.ts).
   */
  call(op: Op, args: unknown[], transfer: ArrayBuffer[] = [], keep = false): Promise<unknown> {
    if (this.#waiters.dead || !this.#executor) return Promise.reject(this.#waiters.dead ?? CLOSED);
    const { id, answer } = this.#waiters.add();
    const req: StoreRequest = { id, op, args };
    if (keep) req.keep = true;
    if (transfer.length > 0) req.transfer = transfer;
    try { this.#executor.handle(req); } catch (err) {
      this.#waiters.settle({ id, ok: false, kind: 'internal', message: String((err as Error)?.message ?? err) });
    }
    return answer;
  }

  /** Commits what is in flight, waits for its fsync and closes the database. */
  async close(): Promise<void> {
    if (this.#waiters.dead || !this.#executor) return;
    await this.#executor.close();
    this.#waiters.dead ??= CLOSED;
  }
}
