// SqliteQueueStore: the embedded QueueStore. Bodies live in dataDir/spool (streamed and fsynced
// on the main thread through libuv); rows live in dataDir/queue.db, owned by a worker thread that
// group-commits writes (WAL, synchronous=FULL). This class only translates calls into worker
// requests and worker failures into typed errors: a failed write is a QueueWriteError (451).
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../../clock.js';
import { QueueWriteError, RelayError } from '../../errors.js';
import type { Logger } from '../../events/log.js';
import type {
  BodyWriter, DeliveryJob, GeneratedMessage, MessageView, NewMessage, QueueCounts, QueueStore, RecipientOutcome, RecordResultsOptions,
  RecipientState, RecipientView, UserRecord,
} from '../store.js';
import type { Op, WorkerResponse } from './protocol.js';
import { FileBodyWriter, readBodyFile } from './spool.js';
import { WorkerClient } from './worker-client.js';

export interface SqliteQueueStoreOptions {
  dataDir: string;
  logger: Logger;
  /** Delete unreferenced spool files older than 10 minutes on open (the relay: yes; the CLI: no). */
  sweepOrphans?: boolean;
  /** Stamps updated_at/completed_at/attempt times; defaults to the system clock. */
  clock?: Clock;
}

const ORPHAN_AGE_MS = 10 * 60_000;

export class SqliteQueueStore implements QueueStore {
  readonly #spoolDir: string;
  readonly #dbPath: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #client: WorkerClient | null = null;

  constructor(private readonly opts: SqliteQueueStoreOptions) {
    this.#spoolDir = path.join(opts.dataDir, 'spool');
    this.#dbPath = path.join(opts.dataDir, 'queue.db');
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? systemClock;
  }

  async open(): Promise<void> {
    if (this.#client) throw new Error('queue store already open');
    try {
      await fsp.mkdir(this.#spoolDir, { recursive: true, mode: 0o700 });
      await syncDir(this.opts.dataDir); // the spool directory's own entry
      const { client, swept } = await WorkerClient.start({
        dbPath: this.#dbPath, spoolDir: this.#spoolDir, sweepOrphans: !!this.opts.sweepOrphans, orphanAgeMs: ORPHAN_AGE_MS,
      }, (reason) => this.#logger.fatal({ event: 'queue.worker_died', reason }, 'queue database thread died; queue writes now fail'));
      this.#client = client;
      if (swept > 0) this.#logger.warn({ event: 'queue.orphans_removed', count: swept }, 'removed unreferenced spool files');
    } catch (err) {
      throw new RelayError('ERR_QUEUE_OPEN', `could not open the queue in ${this.opts.dataDir}: ${(err as Error).message}`, undefined, { cause: err });
    }
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    await client?.close();
  }

  createBody(id: string): BodyWriter { return new FileBodyWriter(this.#spoolDir, id); }
  readBody(id: string): Readable { return readBodyFile(this.#spoolDir, id); }

  async put(message: NewMessage): Promise<void> { await this.#call('put', message, this.#clock.now()); }

  claimDue(opts: { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: string[] }): Promise<DeliveryJob[]> {
    return this.#call('claimDue', opts) as Promise<DeliveryJob[]>;
  }

  async recordResults(messageId: string, outcomes: RecipientOutcome[], generated: GeneratedMessage[] = [],
    opts: RecordResultsOptions = {}): Promise<void> {
    await this.#call('recordResults', messageId, outcomes, generated, opts, this.#clock.now());
  }

  releaseLeases(owner: string | null): Promise<number> {
    return this.#call('releaseLeases', owner, this.#clock.now()) as Promise<number>;
  }

  nextDueAt(): Promise<number | null> { return this.#call('nextDueAt') as Promise<number | null>; }

  listRecipients(opts: { state?: RecipientState; includeFinal?: boolean; limit?: number } = {}): Promise<RecipientView[]> {
    return this.#call('listRecipients', opts) as Promise<RecipientView[]>;
  }

  getMessage(id: string): Promise<MessageView | null> { return this.#call('getMessage', id) as Promise<MessageView | null>; }
  retry(id: string | null, now: number): Promise<number> { return this.#call('retry', id, now) as Promise<number>; }
  /** Holds queued/deferred recipients only; ones being delivered at this moment finish their attempt. */
  hold(id: string): Promise<number> { return this.#call('hold', id, this.#clock.now()) as Promise<number>; }
  release(id: string, now: number): Promise<number> { return this.#call('release', id, now) as Promise<number>; }
  deleteMessage(id: string): Promise<boolean> { return this.#call('deleteMessage', id) as Promise<boolean>; }
  purgeFinished(before: number): Promise<number> { return this.#call('purgeFinished', before) as Promise<number>; }
  counts(): Promise<QueueCounts> { return this.#call('counts') as Promise<QueueCounts>; }

  async addUser(user: UserRecord): Promise<void> { await this.#call('addUser', user); }
  getUser(name: string): Promise<UserRecord | null> { return this.#call('getUser', name) as Promise<UserRecord | null>; }
  listUsers(): Promise<UserRecord[]> { return this.#call('listUsers') as Promise<UserRecord[]>; }
  removeUser(name: string): Promise<boolean> { return this.#call('removeUser', name) as Promise<boolean>; }

  async #call(op: Op, ...args: unknown[]): Promise<unknown> {
    if (!this.#client) throw new QueueWriteError('queue store is not open');
    try {
      return await this.#client.call(op, args);
    } catch (err) {
      throw this.#toError(op, err as Extract<WorkerResponse, { ok: false }>);
    }
  }

  #toError(op: Op, f: Extract<WorkerResponse, { ok: false }>): Error {
    const cause = Object.assign(new Error(f.message), { code: f.code });
    if (f.kind === 'user-exists') return new RelayError('ERR_USER_EXISTS', f.message, undefined, { cause });
    if (f.kind === 'internal') {
      this.#logger.error({ event: 'queue.read_failed', op, code: f.code, reason: f.message }, 'queue read failed');
      return new RelayError('ERR_QUEUE_READ', `queue ${op} failed`, undefined, { cause });
    }
    this.#logger.error({ event: 'queue.write_failed', op, code: f.code, reason: f.message }, 'queue write failed');
    return new QueueWriteError(`queue ${op} failed: ${f.message}`, { cause });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}
