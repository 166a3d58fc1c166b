// SqliteQueueStore: the embedded QueueStore. Rows live in dataDir/queue.db, written by the
// store's executor — in a database thread (worker.ts: the relay) or on this thread (client.ts:
// `inProcess`, the CLI) — which group-commits writes (WAL; each commit fsynced before it is
// answered, except claim-only ones: executor.ts); bodies up to INLINE_MAX_BYTES are
// kept in memory until put() and committed with the rows, larger ones live in dataDir/spool
// (streamed and fsynced through libuv). This class only translates calls into executor requests
// and their failures into typed errors: a failed write is a QueueWriteError (451), and one the disk caused
// (full, failing, or the write lock held too long: availability.ts) is a QueueUnavailableError,
// logged once per outage (../store-availability.ts), like an unreachable PostgreSQL: delivery
// pauses and keeps finished outcomes in memory, /readyz says not ready. If the executor stops
// (a failed WAL fsync: executor.ts "Fail-stop"), every call fails with QueueUnavailableError and
// opts.onDead runs: the relay exits.
import type { AcquireSlotsOptions, DestinationSlot, NodeHeartbeat } from '../store.js';
import type {
  Account, ApiKeyRecord, EventQuery, IdempotencyRecord, MessageEvent, MessageMeta, MessageSearch, MessageSummary, QuotaResult, QuotaWindow,
  RateLimits, Webhook, WebhookAttempt, WebhookBatch,
} from '../platform-store.js';
import { InProcessSlots } from '../in-process-slots.js';
import type { SoftBouncePolicy, Suppression, SuppressionQuery, SuppressionScope } from '../suppression-store.js';
import { DEFAULT_SOFT_BOUNCE_POLICY } from '../event-effects.js';
import type { ProviderSuspension } from '../shaping-store.js';
import { DEFAULT_BREAKER_POLICY, type Breaker, type BreakerPolicy, type BreakerQuery } from '../breaker-rules.js';
import type { StatsQuery, StatsRow } from '../stats-store.js';
import type { SecretPurpose } from '../secret-store.js';
import type { NewSource, SourceState, StoredSource, WarmupCount } from '../source-store.js';
import type { TlsOutcomeCount, TlsReportClaim, TlsReportRow, TlsReportState } from '../tls-report-store.js';
import type { DashboardSession, DashboardUser } from '../dashboard-store.js';
import type { QueueOverview } from '../queue-overview-store.js';
import type { QueueDepth } from '../queue-depth-store.js';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { systemClock, type Clock } from '../../clock.js';
import { NotFoundError, QueueUnavailableError, QueueWriteError, RelayError } from '../../errors.js';
import type { Logger } from '../../events/log.js';
import type {
  BodyWriter, DeliveryJob, DkimKey, GeneratedMessage, MessageView, NewMessage, NewUser, QueueCounts, QueueStore, RecipientOutcome,
  RecordResultsOptions, RecipientState, RecipientView, SendingDomain, UserChange, UserDomainGrant, UserRecord, WriteCheck,
} from '../store.js';
import { StoreAvailability } from '../store-availability.js';
import { isUnavailable } from './availability.js';
import { InlineBodies, InlineBodyWriter, KEEP_FOR_DELIVERY_MIN, KeptBodies } from './inline-body.js';
import { freeNow } from '../../free-bytes.js';
import { EXCLUSIONS_KEPT, READ_OPS, type Exclusion, type BodySource, type Op, type ReadOp, type StoreResponse } from './protocol.js';
import { readBodyFile } from './spool.js';
import { joinMessage } from '../whole-body.js';
import { StoreClient } from './client.js';
import { WorkerClient } from './worker-client.js';
import type { ClaimOptions } from './claim-due.js';
import { outcomeRuns } from './outcome-runs.js';

export interface SqliteQueueStoreOptions {
  dataDir: string;
  logger: Logger;
  /** Delete unreferenced spool files older than 10 minutes on open (the relay: yes; the CLI: no). */
  sweepOrphans?: boolean;
  /** Stamps updated_at/completed_at/attempt times; defaults to the system clock. */
  clock?: Clock;
  /** When repeated soft bounces suppress an address (config suppression.softBounces); default 3 in 30 days. */
  softBounces?: SoftBouncePolicy;
  /** Circuit breakers (config breakers); default: breaker-rules.ts DEFAULT_BREAKER_POLICY. */
  breakers?: BreakerPolicy;
  /**
   * Called once, after `queue.worker_died` is logged, when the executor has stopped without
   * close() (a failed WAL fsync: executor.ts "Fail-stop"); every queue call fails from then on.
   * The relay exits here (main.ts), so that its restart recovers the queue from the disk.
   */
  onDead?: () => void;
  /**
   * Run the executor on this thread (client.ts) rather than in a database thread (worker.ts):
   * no second V8 isolate (peak anonymous memory −10 to −13 MB under load) and no thread start,
   * but SQLite's work shares this thread's core: on a 2-core VM the relay's throughput on small
   * messages fell to 0.6 (bench/README.md, twenty-third session). The CLI: yes; the relay: only
   * with storage.sqliteThread: main (open-store.ts).
   */
  inProcess?: boolean;
  /**
   * With inProcess: the heavy reads (listings, searches, aggregates: read-handlers.ts) run on a
   * read-only thread started on demand (reader-thread.ts), so they do not block this thread's event
   * loop (180-300 ms for an event listing of 100k messages). The relay in-process: yes; the CLI: no
   * (its own loop may block; the thread's start costs ~70 ms). Ignored without inProcess.
   */
  heavyReadsThread?: boolean;
}

const ORPHAN_AGE_MS = 10 * 60_000;
/** A kept body not taken by then is dropped: its message is read from the store like any other. */
const KEPT_AGE_MS = 60_000;
/**
 * Below this much free space (for us: statfs bavail) checkWritable answers false even before a
 * write fails: a body or a WAL append is likely not to fit, and an idle relay would otherwise
 * look ready until its next write (the heartbeat, up to 10 s later).
 */
export const MIN_FREE_BYTES = 1024 * 1024;

export class SqliteQueueStore implements QueueStore {
  /**
   * false: the API's suppression lookup stays its own store request. Folded into the put
   * (putCheckingSuppressions) the request ran whole and cost the main thread 1.1-1.45x CPU at
   * 50 clients; with the fold's second half after a loop turn (HttpSubmission) that came back to
   * level (0.96) but msg/s 0.97 and p99 1.02 over 8 loaded pairs: not kept (bench/README.md,
   * twentieth session, api20; the eighteenth's api18 for the fold alone).
   */
  readonly suppressionLookupInPut = false;
  readonly #spoolDir: string;
  readonly #dbPath: string;
  readonly #logger: Logger;
  readonly #clock: Clock;
  #client: StoreClient | WorkerClient | null = null; // the same surface
  /** Why the executor stopped without close(), once it has. */
  #dead: string | null = null;
  /** Wall time, like the orphan sweep: the injected clock may be a test's simulated time. */
  readonly #inline = new InlineBodies(systemClock, ORPHAN_AGE_MS);
  /** Large bodies committed by put, kept for their first delivery attempt (KeptBodies). */
  readonly #kept = new KeptBodies(systemClock, KEPT_AGE_MS);
  readonly #slots = new InProcessSlots();
  readonly #availability: StoreAvailability;

  constructor(private readonly opts: SqliteQueueStoreOptions) {
    this.#spoolDir = path.join(opts.dataDir, 'spool');
    this.#dbPath = path.join(opts.dataDir, 'queue.db');
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? systemClock;
    this.#availability = new StoreAvailability({ logger: opts.logger, store: 'sqlite' }); // wall time, like the sweep
  }

  async open(): Promise<void> {
    if (this.#client) throw new Error('queue store already open');
    try {
      await fsp.mkdir(this.#spoolDir, { recursive: true, mode: 0o700 });
      await syncDir(this.opts.dataDir); // the spool directory's own entry
      const { client, swept } = await (this.opts.inProcess ? StoreClient : WorkerClient).start({
        dbPath: this.#dbPath, spoolDir: this.#spoolDir, sweepOrphans: !!this.opts.sweepOrphans, orphanAgeMs: ORPHAN_AGE_MS,
        softBounces: this.opts.softBounces ?? DEFAULT_SOFT_BOUNCE_POLICY, breakers: this.opts.breakers ?? DEFAULT_BREAKER_POLICY,
        heavyReadsThread: !!this.opts.inProcess && !!this.opts.heavyReadsThread,
      }, (reason, code) => {
        this.#dead = reason;
        this.#logger.fatal({ event: 'queue.worker_died', reason, code: code ?? null }, 'queue store stopped (fail-stop); every queue operation now fails');
        this.opts.onDead?.();
      });
      this.#client = client;
      client.onWrote = () => this.#availability.succeeded(); // only a commit that wrote rows ends an outage
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

  async checkWritable(): Promise<WriteCheck> {
    if (this.#dead !== null) return { writable: false, reason: `queue store stopped: ${this.#dead}` };
    const outage = this.#availability.outage;
    if (outage) return { writable: false, reason: `writes failing since ${new Date(outage.since).toISOString()} (${outage.code ?? outage.reason})` };
    const slow = this.#availability.slowness;
    try {
      const stat = await fsp.statfs(this.opts.dataDir);
      const free = stat.bavail * stat.bsize;
      if (free < MIN_FREE_BYTES) return { writable: false, reason: `${free} bytes free in the data directory` };
    } catch (err) {
      return { writable: false, reason: `cannot check the data directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    return slow ? { writable: true, reason: `writes slow: ${slow.slowestMs} ms`, slow } : { writable: true, reason: null };
  }

  /** In memory up to INLINE_MAX_BYTES (stored in the database by put), a spool file beyond. */
  createBody(id: string): BodyWriter { return new InlineBodyWriter(this.#spoolDir, id, this.#inline); }

  /**
   * The header prefix, then the inline body or the spool file. The one store request for both is
   * made now, so it overlaps what the caller does before reading (e.g. the MAIL/RCPT exchange).
   */
  readBody(id: string): Readable {
    const source = this.#call('bodySource', id) as Promise<BodySource>;
    source.catch(() => undefined); // handled when the stream is read
    return Readable.from(this.#messageChunks(id, source), { objectMode: false });
  }

  async readMessage(id: string): Promise<Buffer | Readable> {
    const kept = this.#kept.take(id);
    if (kept) {
      const state = await (this.#call('bodySource', id, false) as Promise<BodySource>);
      const whole = state.body === 'inline' ? joinMessage(state.prefix, kept) : null;
      if (whole !== kept) freeNow(kept.buffer as ArrayBuffer); // joined into a new buffer (a header prefix), or not needed: nobody else has it
      if (state.body === null) throw new NotFoundError(`body of message ${id}`);
      if (whole) return whole;
    }
    const source = await (this.#call('bodySource', id) as Promise<BodySource>);
    if (source.body === null) throw new NotFoundError(`body of message ${id}`);
    if (source.body === 'file' || source.body === 'inline') return Readable.from(this.#messageChunks(id, Promise.resolve(source)), { objectMode: false });
    return joinMessage(source.prefix, Buffer.from(source.body.buffer, source.body.byteOffset, source.body.byteLength));
  }

  async *#messageChunks(id: string, source: Promise<BodySource>): AsyncGenerator<Buffer> {
    const { prefix, body } = await source;
    if (body === null) throw new NotFoundError(`body of message ${id}`);
    if (prefix) yield Buffer.from(prefix, 'latin1');
    if (body === 'file' || body === 'inline') yield* readBodyFile(this.#spoolDir, id) as AsyncIterable<Buffer>; // 'inline': never (asked with the blob)
    else yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  /**
   * An inline body goes to the executor with the rows (handed over, not copied): one commit, one fsync.
   * A large one comes back with the answer once committed and is kept for the first delivery attempt (KeptBodies).
   */
  async put(message: NewMessage): Promise<void> {
    await this.#putOne('put', message);
  }

  /** put with the suppression lookup in the same savepoint: one store request. */
  putCheckingSuppressions(message: NewMessage): Promise<Map<string, Suppression>> {
    return this.#putOne('putCheckingSuppressions', message) as Promise<Map<string, Suppression>>;
  }

  /**
   * A large body comes back with the answer, once SQLite has its copy (protocol.ts, `keep`), and is
   * kept for the first delivery attempt: the same buffer, not a copy made before the transfer.
   */
  async #putOne(op: 'put' | 'putCheckingSuppressions', message: NewMessage): Promise<unknown> {
    const body = this.#inline.take(message.id) ?? null;
    if (!body) return this.#send(op, [message, this.#clock.now(), null], []);
    const keep = body.byteLength >= KEEP_FOR_DELIVERY_MIN;
    const answer = await this.#send(op, [message, this.#clock.now(), body], [body.buffer as ArrayBuffer], keep);
    if (!keep) return answer;
    const [result, back] = answer as [unknown, Uint8Array | null];
    if (back) this.#kept.add(message.id, Buffer.from(back.buffer, back.byteOffset, back.byteLength));
    return result;
  }

  /** One store request, so one savepoint of one group commit: all the messages or none. */
  async putMany(messages: NewMessage[]): Promise<void> {
    const bodies = messages.map((m) => this.#inline.take(m.id) ?? null);
    await this.#send('putMany', [messages, this.#clock.now(), bodies], bodies.flatMap((b) => (b ? [b.buffer as ArrayBuffer] : [])));
  }

  /**
   * The exclusion list is turned into claimDue's JSON once: the scheduler hands the same frozen list out
   * while an exclusion recurs, so a frozen list seen among the last few is sent by number (claim-due.ts).
   */
  claimDue(opts: { now: number; limit: number; leaseMs: number; owner: string; excludeDomains?: readonly string[] }): Promise<DeliveryJob[]> {
    const list = opts.excludeDomains;
    if (!list || list.length === 0 || !Object.isFrozen(list)) return this.#call('claimDue', opts) as Promise<DeliveryJob[]>;
    const known = this.#exclusionIds.get(list);
    let exclusion: Exclusion;
    if (known !== undefined && this.#lastExclusion - known < EXCLUSIONS_KEPT) exclusion = { id: known };
    else {
      exclusion = { id: ++this.#lastExclusion, domains: list };
      this.#exclusionIds.set(list, exclusion.id);
    }
    const sent: ClaimOptions = { now: opts.now, limit: opts.limit, leaseMs: opts.leaseMs, owner: opts.owner, exclusion };
    return (this.#call('claimDue', sent) as Promise<DeliveryJob[]>).catch((err: unknown) => {
      this.#exclusionIds.delete(list); // maybe not defined in the executor: send it in full next time
      throw err;
    });
  }
  /** Numbers of the exclusion lists given to the executor, and the last number given. */
  readonly #exclusionIds = new WeakMap<readonly string[], number>();
  #lastExclusion = 0;

  async recordResults(messageId: string, outcomes: RecipientOutcome[], generated: GeneratedMessage[] = [],
    opts: RecordResultsOptions = {}): Promise<void> {
    const bodies = generated.map((g) => this.#inline.take(g.message.id) ?? null);
    await this.#send('recordResults', [messageId, outcomeRuns(outcomes), generated, opts, this.#clock.now(), bodies],
      bodies.flatMap((b) => (b ? [b.buffer as ArrayBuffer] : [])));
  }

  releaseLeases(owner: string | null): Promise<number> {
    return this.#call('releaseLeases', owner, this.#clock.now()) as Promise<number>;
  }

  nextDueAt(): Promise<number | null> { return this.#call('nextDueAt') as Promise<number | null>; }

  // Destination slots: one relay process uses this queue, so they live in its memory.
  async acquireDestinationSlots(o: AcquireSlotsOptions): Promise<DestinationSlot[]> { return this.#slots.acquire(o); }
  async renewDestinationSlots(o: { owner: string; now: number; leaseMs: number }): Promise<DestinationSlot[]> { return this.#slots.renew(o); }
  async releaseDestinationSlots(owner: string, which?: DestinationSlot[]): Promise<number> { return this.#slots.release(owner, which); }
  unclaimJobs(owner: string, jobs: { messageId: string; domain: string }[], dueAt?: number): Promise<number> {
    return this.#call('unclaimJobs', owner, jobs, this.#clock.now(), dueAt ?? 0) as Promise<number>;
  }

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

  async addUser(user: NewUser): Promise<void> { await this.#call('addUser', user); }
  getUser(name: string): Promise<UserRecord | null> { return this.#call('getUser', name) as Promise<UserRecord | null>; }
  listUsers(account?: string): Promise<UserRecord[]> { return this.#call('listUsers', account ?? null) as Promise<UserRecord[]>; }
  setUserLimits(name: string, limits: RateLimits): Promise<boolean> { return this.#call('setUserLimits', name, limits) as Promise<boolean>; }
  setUserDefaultStream(name: string, stream: UserRecord['defaultStream']): Promise<boolean> { return this.#call('setUserDefaultStream', name, stream) as Promise<boolean>; }
  recordHeartbeat(h: NodeHeartbeat): Promise<void> { return this.#call('recordHeartbeat', h) as Promise<void>; }
  listNodes(since: number): Promise<NodeHeartbeat[]> { return this.#call('listNodes', since) as Promise<NodeHeartbeat[]>; }
  removeUser(name: string): Promise<boolean> { return this.#call('removeUser', name) as Promise<boolean>; }
  changeUser(name: string, change: UserChange): Promise<boolean> { return this.#call('changeUser', name, change) as Promise<boolean>; }
  setUserDomains(name: string, grant: UserDomainGrant): Promise<boolean> {
    return this.#call('setUserDomains', name, grant) as Promise<boolean>;
  }

  async addDomain(domain: SendingDomain): Promise<void> { await this.#call('addDomain', domain); }
  getDomain(name: string): Promise<SendingDomain | null> { return this.#call('getDomain', name) as Promise<SendingDomain | null>; }
  listDomains(account?: string): Promise<SendingDomain[]> { return this.#call('listDomains', account ?? null) as Promise<SendingDomain[]>; }
  listDomainNames(account: string): Promise<string[]> { return this.#call('listDomainNames', account) as Promise<string[]>; }
  removeDomain(name: string): Promise<boolean> { return this.#call('removeDomain', name) as Promise<boolean>; }
  async addDkimKey(domain: string, key: DkimKey): Promise<void> { await this.#call('addDkimKey', domain, key); }
  activateDkimKey(domain: string, selector: string): Promise<boolean> {
    return this.#call('activateDkimKey', domain, selector) as Promise<boolean>;
  }

  // the platform store (account-ops.ts, event-ops.ts, webhook-ops.ts run them in the executor)
  async addAccount(a: Account): Promise<void> { await this.#call('addAccount', a); }
  getAccount(name: string): Promise<Account | null> { return this.#call('getAccount', name) as Promise<Account | null>; }
  listAccounts(): Promise<Account[]> { return this.#call('listAccounts') as Promise<Account[]>; }
  removeAccount(name: string): Promise<boolean> { return this.#call('removeAccount', name) as Promise<boolean>; }
  setAccountLimits(name: string, limits: RateLimits): Promise<boolean> { return this.#call('setAccountLimits', name, limits) as Promise<boolean>; }
  setAccountTrackingDomain(name: string, domain: string | null): Promise<boolean> { return this.#call('setAccountTrackingDomain', name, domain) as Promise<boolean>; }
  async addApiKey(k: ApiKeyRecord): Promise<void> { await this.#call('addApiKey', k); }
  getApiKey(id: string): Promise<ApiKeyRecord | null> { return this.#call('getApiKey', id) as Promise<ApiKeyRecord | null>; }
  listApiKeys(account: string): Promise<ApiKeyRecord[]> { return this.#call('listApiKeys', account) as Promise<ApiKeyRecord[]>; }
  revokeApiKey(account: string, id: string, at: number): Promise<boolean> { return this.#call('revokeApiKey', account, id, at) as Promise<boolean>; }
  async touchApiKey(id: string, at: number): Promise<void> { await this.#call('touchApiKey', id, at); }
  consumeQuota(windows: QuotaWindow[], n: number): Promise<QuotaResult> { return this.#call('consumeQuota', windows, n) as Promise<QuotaResult>; }
  quotaUsage(windows: Omit<QuotaWindow, 'limit'>[]): Promise<number[]> { return this.#call('quotaUsage', windows) as Promise<number[]>; }
  appendEvents(events: Omit<MessageEvent, 'id' | 'seq'>[]): Promise<MessageEvent[]> { return this.#call('appendEvents', events) as Promise<MessageEvent[]>; }
  listEvents(q: EventQuery): Promise<MessageEvent[]> { return this.#call('listEvents', q) as Promise<MessageEvent[]>; }
  purgeEvents(before: number): Promise<number> { return this.#call('purgeEvents', before) as Promise<number>; }
  getMessageMeta(id: string): Promise<MessageMeta | null> { return this.#call('getMessageMeta', id) as Promise<MessageMeta | null>; }
  searchMessages(q: MessageSearch): Promise<MessageSummary[]> { return this.#call('searchMessages', q) as Promise<MessageSummary[]>; }
  async addWebhook(w: Webhook): Promise<void> { await this.#call('addWebhook', w); }
  listWebhooks(account: string): Promise<Webhook[]> { return this.#call('listWebhooks', account) as Promise<Webhook[]>; }
  getWebhook(account: string, id: string): Promise<Webhook | null> { return this.#call('getWebhook', account, id) as Promise<Webhook | null>; }
  removeWebhook(account: string, id: string): Promise<boolean> { return this.#call('removeWebhook', account, id) as Promise<boolean>; }
  setWebhookEnabled(account: string, id: string, enabled: boolean, reason: string | null, at: number): Promise<boolean> {
    return this.#call('setWebhookEnabled', account, id, enabled, reason, at) as Promise<boolean>;
  }
  claimWebhookBatches(opts: { now: number; limit: number; batchSize: number; leaseMs: number; owner: string }): Promise<WebhookBatch[]> {
    return this.#call('claimWebhookBatches', opts) as Promise<WebhookBatch[]>;
  }
  async recordWebhookAttempt(a: WebhookAttempt, retryAt: number | null): Promise<void> { await this.#call('recordWebhookAttempt', a, retryAt); }
  listWebhookAttempts(account: string, webhookId: string, limit: number): Promise<WebhookAttempt[]> {
    return this.#call('listWebhookAttempts', account, webhookId, limit) as Promise<WebhookAttempt[]>;
  }
  reserveIdempotencyKey(account: string, key: string, requestHash: string, now: number): Promise<IdempotencyRecord | null> {
    return this.#call('reserveIdempotencyKey', account, key, requestHash, now) as Promise<IdempotencyRecord | null>;
  }
  async completeIdempotencyKey(account: string, key: string, response: { status: number; body: unknown }): Promise<void> {
    await this.#call('completeIdempotencyKey', account, key, response);
  }
  async releaseIdempotencyKey(account: string, key: string): Promise<void> { await this.#call('releaseIdempotencyKey', account, key); }
  purgeIdempotencyKeys(before: number): Promise<number> { return this.#call('purgeIdempotencyKeys', before) as Promise<number>; }

  // installation secrets (suppression-ops.ts)
  async getSecrets(purpose: SecretPurpose): Promise<Buffer[]> {
    return ((await this.#call('getSecrets', purpose)) as Uint8Array[]).map((s) => Buffer.from(s));
  }
  async addSecret(purpose: SecretPurpose, secret: Buffer, createdAt: number, retireBefore: number): Promise<void> {
    await this.#call('addSecret', purpose, secret, createdAt, retireBefore);
  }

  // statistics (stats-ops.ts)
  readStats(q: StatsQuery): Promise<StatsRow[]> { return this.#call('readStats', q) as Promise<StatsRow[]>; }
  compactStats(): Promise<number> { return this.#call('compactStats') as Promise<number>; }

  // TLS reporting (tls-report-ops.ts)
  async addTlsOutcomes(rows: TlsOutcomeCount[]): Promise<void> { if (rows.length > 0) await this.#call('addTlsOutcomes', rows); }
  readTlsOutcomes(day: number, domain?: string): Promise<TlsOutcomeCount[]> {
    return this.#call('readTlsOutcomes', day, domain ?? null) as Promise<TlsOutcomeCount[]>;
  }
  claimTlsReport(c: TlsReportClaim): Promise<{ attempts: number; detail: string } | null> {
    return this.#call('claimTlsReport', c) as Promise<{ attempts: number; detail: string } | null>;
  }
  async finishTlsReport(domain: string, day: number, owner: string, state: TlsReportState, detail: string, retryAt?: number): Promise<void> {
    await this.#call('finishTlsReport', domain, day, owner, state, detail, retryAt ?? null);
  }
  listTlsReports(limit: number): Promise<TlsReportRow[]> { return this.#call('listTlsReports', limit) as Promise<TlsReportRow[]>; }
  purgeTlsReports(day: number): Promise<number> { return this.#call('purgeTlsReports', day) as Promise<number>; }

  // the suppression list (suppression-ops.ts)
  addSuppressions(entries: Suppression[], opts: { replace?: boolean } = {}): Promise<number> {
    return this.#call('addSuppressions', entries, opts) as Promise<number>;
  }
  removeSuppression(account: string, address: string, scope?: SuppressionScope): Promise<number> {
    return this.#call('removeSuppression', account, address, scope ?? null) as Promise<number>;
  }
  listSuppressions(q: SuppressionQuery): Promise<Suppression[]> { return this.#call('listSuppressions', q) as Promise<Suppression[]>; }
  findSuppressions(account: string, stream: 'transactional' | 'broadcast', addresses: string[]): Promise<Map<string, Suppression>> {
    return this.#call('findSuppressions', account, stream, addresses) as Promise<Map<string, Suppression>>;
  }

  // provider suspensions of traffic shaping (shaping-ops.ts)
  recordSuspension(s: ProviderSuspension): Promise<void> { return this.#call('recordSuspension', s) as Promise<void>; }
  listSuspensions(now: number): Promise<ProviderSuspension[]> { return this.#call('listSuspensions', now) as Promise<ProviderSuspension[]>; }

  // circuit breakers (breaker-ops.ts)
  listBreakers(q: BreakerQuery): Promise<Breaker[]> { return this.#call('listBreakers', q) as Promise<Breaker[]>; }
  resumeBreaker(id: number, by: string, reason: string, now: number): Promise<Breaker | null> {
    return this.#call('resumeBreaker', id, by, reason, now) as Promise<Breaker | null>;
  }

  // egress sources and warmup (source-ops.ts)
  listSources(): Promise<StoredSource[]> { return this.#call('listSources') as Promise<StoredSource[]>; }
  addSource(s: NewSource, now: number): Promise<boolean> { return this.#call('addSource', s, now) as Promise<boolean>; }
  async setSourceState(name: string, state: SourceState, now: number): Promise<void> { await this.#call('setSourceState', name, state, now); }
  takeWarmup(source: string, provider: string, day: number, cap: number): Promise<boolean> {
    return this.#call('takeWarmup', source, provider, day, cap) as Promise<boolean>;
  }
  readWarmup(day: number): Promise<WarmupCount[]> { return this.#call('readWarmup', day) as Promise<WarmupCount[]>; }
  purgeWarmup(day: number): Promise<number> { return this.#call('purgeWarmup', day) as Promise<number>; }
  postponeJobs(owner: string, jobs: { messageId: string; domain: string }[], until: number, now: number): Promise<number> {
    return this.#call('postponeJobs', owner, jobs, until, now) as Promise<number>;
  }

  // dashboard users and sessions (dashboard-ops.ts)
  addDashboardUser(user: DashboardUser): Promise<boolean> { return this.#call('addDashboardUser', user) as Promise<boolean>; }
  getDashboardUser(username: string): Promise<DashboardUser | null> { return this.#call('getDashboardUser', username) as Promise<DashboardUser | null>; }
  listDashboardUsers(): Promise<DashboardUser[]> { return this.#call('listDashboardUsers') as Promise<DashboardUser[]>; }
  removeDashboardUser(username: string): Promise<boolean> { return this.#call('removeDashboardUser', username) as Promise<boolean>; }
  setDashboardPassword(username: string, passwordHash: string, now: number): Promise<boolean> {
    return this.#call('setDashboardPassword', username, passwordHash, now) as Promise<boolean>;
  }
  async createDashboardSession(session: DashboardSession, now: number): Promise<void> { await this.#call('createDashboardSession', session, now); }
  getDashboardSession(tokenHash: string, now: number): Promise<{ session: DashboardSession; user: DashboardUser } | null> {
    return this.#call('getDashboardSession', tokenHash, now) as Promise<{ session: DashboardSession; user: DashboardUser } | null>;
  }
  async touchDashboardSession(tokenHash: string, idleUntil: number): Promise<void> { await this.#call('touchDashboardSession', tokenHash, idleUntil); }
  deleteDashboardSession(tokenHash: string): Promise<boolean> { return this.#call('deleteDashboardSession', tokenHash) as Promise<boolean>; }

  // the queue overview (queue-overview-ops.ts)
  queueOverview(account: string | null, domains: number): Promise<QueueOverview> { return this.#call('queueOverview', account, domains) as Promise<QueueOverview>; }

  // the queue depth (queue-depth-ops.ts): a light read, never on the heavy reads' thread
  queueDepth(): Promise<QueueDepth> { return this.#call('queueDepth') as Promise<QueueDepth>; }

  // webhook replay (webhook-replay-ops.ts)
  replayWebhookEvents(account: string, webhookId: string, seqs: number[], now: number): Promise<number> {
    return this.#call('replayWebhookEvents', account, webhookId, seqs, now) as Promise<number>;
  }

  #call(op: Op, ...args: unknown[]): Promise<unknown> { return this.#send(op, args, []); }

  async #send(op: Op, args: unknown[], transfer: ArrayBuffer[], keep = false): Promise<unknown> {
    if (!this.#client) throw new QueueWriteError('queue store is not open');
    // Writes are timed (a slow disk: /readyz degraded); reads are answered in order behind them.
    const done = READ_OPS.includes(op as ReadOp) ? null : this.#availability.writeStarted(op);
    try {
      return await this.#client.call(op, args, transfer, keep);
    } catch (err) {
      throw this.#toError(op, err as Extract<StoreResponse, { ok: false }>);
    } finally {
      done?.();
    }
  }

  #toError(op: Op, f: Extract<StoreResponse, { ok: false }>): Error {
    const cause = Object.assign(new Error(f.message), { code: f.code });
    if (f.kind === 'user-exists') return new RelayError('ERR_USER_EXISTS', f.message, undefined, { cause });
    if (f.kind === 'account-exists') return new RelayError('ERR_ACCOUNT_EXISTS', f.message, undefined, { cause });
    if (f.kind === 'account-default') return new RelayError('ERR_ACCOUNT_DEFAULT', f.message, undefined, { cause });
    if (f.kind === 'domain-exists') return new RelayError('ERR_DOMAIN_EXISTS', f.message, undefined, { cause });
    if (f.kind === 'selector-exists') return new RelayError('ERR_SELECTOR_EXISTS', f.message, undefined, { cause });
    if (f.kind === 'not-found') return new NotFoundError(f.message);
    // The executor stopped (logged once, queue.worker_died): not retryable in this process, but a
    // temporary failure for the client (451, HTTP 503), who retries after the restart.
    if (f.kind === 'dead') return new QueueUnavailableError(`queue ${op} failed: ${f.message}`, { cause });
    if (isUnavailable(f.code)) {
      this.#availability.failed(op, cause);
      this.#logger.debug({ event: 'queue.op_unavailable', op, code: f.code, reason: f.message }, 'queue operation failed: storage unavailable');
      return new QueueUnavailableError(`queue ${op} failed: storage unavailable (${f.message})`, { cause });
    }
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

