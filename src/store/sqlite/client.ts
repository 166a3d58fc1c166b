// SqliteQueueStore's end of an in-process executor (executor.ts; `inProcess`, the CLI's; the
// relay's runs in worker.ts, through worker-client.ts): request id → promise. The executor runs
// on this thread; a request's statements run when it is called (a write in the open group commit),
// and its answer arrives when the answer pipeline releases it (after the WAL fsync its batch, or
// an earlier one, waits for). Nothing here keeps the process alive: only a pending commit
// (setImmediate) or fsync (libuv) does, so a forgotten close() never keeps a CLI process alive,
// yet the process cannot exit while a commit is still outstanding.
import { StoreExecutor } from './executor.js';
import type { Op, StoreConfig, StoreRequest, StoreResponse } from './protocol.js';

type Failure = Extract<StoreResponse, { ok: false }>;
interface Waiter { resolve(v: unknown): void; reject(f: Failure): void }

export class StoreClient {
  #pending = new Map<number, Waiter>();
  #nextId = 1;
  /** Why every request now fails: the store was closed ('write'), or the executor stopped ('dead'). */
  #dead: Failure | null = null;
  #executor: StoreExecutor | null = null;

  /** Told of each commit that changed rows (the store's availability: the disk takes writes again). */
  onWrote: () => void = () => undefined;

  private constructor(private readonly onDead: (reason: string, code?: string) => void) {}

  /** Opens and migrates the database (synchronously, on this thread); rejects when it cannot. */
  static async start(config: StoreConfig, onDead: (reason: string, code?: string) => void): Promise<{ client: StoreClient; swept: number }> {
    const client = new StoreClient(onDead);
    const { executor, swept } = StoreExecutor.open(config, (r) => client.#settle(r), (reason, code) => client.#fail(reason, code));
    client.#executor = executor;
    return { client, swept };
  }

  /**
   * `transfer`: buffers in `args` the caller hands over (it never reads them again): the executor
   * may free them once their statements have run. `keep`: the request's inline body comes back
   * with the answer (StoreRequest in protocol.ts).
   */
  call(op: Op, args: unknown[], transfer: ArrayBuffer[] = [], keep = false): Promise<unknown> {
    if (this.#dead || !this.#executor) return Promise.reject(this.#dead ?? closed);
    const id = this.#nextId++;
    const req: StoreRequest = { id, op, args };
    if (keep) req.keep = true;
    if (transfer.length > 0) req.transfer = transfer;
    const answer = new Promise((resolve, reject) => { this.#pending.set(id, { resolve, reject }); });
    try { this.#executor.handle(req); } catch (err) {
      this.#settle({ id, ok: false, kind: 'internal', message: String((err as Error)?.message ?? err) });
    }
    return answer;
  }

  /** Commits what is in flight, waits for its fsync and closes the database. */
  async close(): Promise<void> {
    if (this.#dead || !this.#executor) return;
    await this.#executor.close();
    this.#dead ??= closed;
  }

  #settle(msg: StoreResponse): void {
    const waiter = this.#pending.get(msg.id);
    if (!waiter) return;
    this.#pending.delete(msg.id);
    if (msg.ok && msg.wrote) this.onWrote();
    if (msg.ok) waiter.resolve(msg.result);
    else waiter.reject(msg);
  }

  /**
   * The executor stopped (a failed WAL fsync: executor.ts, "Fail-stop"): every pending and later
   * request fails as 'dead' (a QueueUnavailableError: 451, HTTP 503), whatever its batch did, so
   * no request of a batch whose fsync failed, or of a later one, is answered OK.
   */
  #fail(reason: string, code?: string): void {
    if (this.#dead === null) {
      this.#dead = { id: 0, ok: false, kind: 'dead', message: reason, code };
      this.onDead(reason, code);
    }
    for (const w of this.#pending.values()) w.reject(this.#dead);
    this.#pending.clear();
  }
}

const closed: Failure = { id: 0, ok: false, kind: 'write', message: 'queue store is closed' };
