// PostgresQueueStore: the QueueStore on a PostgreSQL database shared by several relay nodes.
// Rows and bodies all live in the database (a node never depends on another node's disk); work
// is leased with FOR UPDATE SKIP LOCKED and lease expiry (claim-due.ts). Each write is one
// transaction, durable when its promise resolves. This class owns the pool, the transaction
// helper and the translation of failures into typed errors: a failed write is a QueueWriteError
// (SMTP answers 451), a failed read is ERR_QUEUE_READ, and either one caused by the database being
// unreachable, out of disk or failing (availability.ts) is a QueueUnavailableError, logged once per
// outage (../store-availability.ts, which also answers checkWritable for /readyz).
import type { AcquireSlotsOptions, DestinationSlot, NodeHeartbeat } from '../store.js';
import type {
  Account, ApiKeyRecord, EventQuery, IdempotencyRecord, MessageEvent, MessageMeta, MessageSearch, MessageSummary, QuotaResult, QuotaWindow,
  RateLimits, ClaimWebhookOptions, Webhook, WebhookAttempt, WebhookBatch,
} from '../platform-store.js';
import * as accounts from './account-ops.js';
import * as events from './event-ops.js';
import * as webhooks from './webhook-ops.js';
import * as suppressions from './suppression-ops.js';
import * as stats from './stats-ops.js';
import * as tlsReports from './tls-report-ops.js';
import * as sources from './source-ops.js';
import type { NewSource, SourceState, StoredSource, WarmupCount } from '../source-store.js';
import * as dashboard from './dashboard-ops.js';
import { compactQueueCounts, queueOverview } from './queue-overview-ops.js';
import { replayWebhookEvents } from './webhook-replay-ops.js';
import type { QueueOverview } from '../queue-overview-store.js';
import type { QueueDepth } from '../queue-depth-store.js';
import { queueDepth } from './queue-depth-ops.js';
import type { DashboardSession, DashboardUser } from '../dashboard-store.js';
import type { TlsOutcomeCount, TlsReportClaim, TlsReportRow, TlsReportState } from '../tls-report-store.js';
import type { StatsQuery, StatsRow } from '../stats-store.js';
import type { SecretPurpose } from '../secret-store.js';
import { INSERT_SECRET, RETIRE_SECRETS, SELECT_SECRETS } from '../sql/secrets.js';
import type { SoftBouncePolicy, Suppression, SuppressionQuery, SuppressionScope } from '../suppression-store.js';
import { DEFAULT_SOFT_BOUNCE_POLICY } from '../event-effects.js';
import { Readable } from 'node:stream';
import { joinMessage } from '../whole-body.js';
import type pg from 'pg';
import { systemClock, type Clock } from '../../clock.js';
import { NotFoundError, QueueUnavailableError, QueueWriteError, RelayError } from '../../errors.js';
import type { Logger } from '../../events/log.js';
import type {
  BodyWriter, DeliveryJob, DkimKey, GeneratedMessage, MessageView, NewMessage, NewUser, QueueCounts, QueueStore, RecipientOutcome,
  RecordResultsOptions, RecipientState, RecipientView, SendingDomain, UserChange, UserDomainGrant, UserRecord, WriteCheck,
} from '../store.js';
import { StoreAvailability } from '../store-availability.js';
import { isUnavailable } from './availability.js';
import { MemoryBodyWriter, PendingBodies } from './body-writer.js';
import * as breakers from './breaker-ops.js';
import * as shaping from './shaping-ops.js';
import type { ProviderSuspension } from '../shaping-store.js';
import { DEFAULT_BREAKER_POLICY, type Breaker, type BreakerPolicy, type BreakerQuery } from '../breaker-rules.js';
import { claimDue, type ClaimOptions } from './claim-due.js';
import * as domains from './domain-ops.js';
import { migrate } from './migrations.js';
import * as reads from './read-ops.js';
import * as slots from './slot-ops.js';
import { OpError, pgTypesOver, type Conn } from './rows.js';
import * as writes from './write-ops.js';

export interface PostgresQueueStoreOptions {
  /** postgres://user@host:port/db */
  url: string;
  logger: Logger;
  /** Stamps updated_at/completed_at/attempt times; defaults to the system clock. */
  clock?: Clock;
  /** Connections in this node's pool (default 10). */
  poolSize?: number;
  /** Server-side statement_timeout for every statement (default 30 s). */
  statementTimeoutMs?: number;
  /** How long to wait for a connection (a new one, or a free one from the pool) before failing (default 5 s). */
  connectTimeoutMs?: number;
  /** Largest body createBody() accepts (pass limits.maxMessageSize plus header room); default 26 MiB. */
  maxBodyBytes?: number;
  /** When repeated soft bounces suppress an address (config suppression.softBounces); default 3 in 30 days. */
  softBounces?: SoftBouncePolicy;
  /** Circuit breakers (config breakers); default: breaker-rules.ts DEFAULT_BREAKER_POLICY. */
  breakers?: BreakerPolicy;
}

const PENDING_MAX_AGE_MS = 10 * 60_000;
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long an idle pooled connection is kept (pg-pool's default: 10 s). A new connection is a new
 * backend that plans every statement again (5 custom plans and a generic one each) and fills its
 * catalog caches: with 10 s, a pause in the traffic (e.g. between a benchmark's warm-up and its run)
 * closed most of the pool and the next burst paid that again on every connection (bench/README.md).
 */
const IDLE_TIMEOUT_MS = 300_000;
/**
 * Puts alone (one statement each, putAlone) in flight at once; the puts made while that many are
 * in flight wait, and the next to go takes every one of them (up to PUT_BATCH_MAX) as one
 * transaction written at once (putAloneBatch, on the pipelining connections): group commit. At 50
 * API clients each put was its own round trip, commit and wake-up of a backend, on this 2-core
 * machine the relay's main thread's largest cost on PostgreSQL (bench/README.md, fourteenth session).
 * A put made while fewer are in flight goes at once, alone: no wait at low load.
 * The lanes are a second pool (pipeline mode) of up to PUT_LANES connections beside `poolSize`:
 * a node opens up to poolSize + PUT_LANES connections (docs/operations.md).
 * A put waits in the queue at most the connect timeout, then fails as a pool connect timeout
 * does (unavailable: SMTP 451, HTTP 503), lanes stuck or not (#expirePuts).
 * Durability: a batch is one transaction, so when its COMMIT's answer is lost (the connection
 * failed) up to PUT_BATCH_MAX messages are in the unknown state a lone put's lost answer leaves one
 * in: each is answered unavailable, and a client's retry may duplicate one that did commit
 * (docs/design/store.md, "Batched puts"). A batch not sent, or rolled back because of one message,
 * runs each put on its own (#putOne), as without batching; one rolled back because the database
 * is unavailable fails each put as unavailable (#runPuts).
 */
const PUT_LANES = 4;
const PUT_BATCH_MAX = 64;
/** A batch takes puts up to this many body bytes (at least one put): pg copies each body into its Bind while the socket is corked. */
const PUT_BATCH_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Delivery results (recordResults) in flight at once; the results that come while that many are in
 * flight wait, and the next to go takes them (up to RESULT_BATCH_MAX, one per message) as one
 * transaction, their statements pipelined on one connection (writes.recordResultsBatch): group
 * commit, as for puts. A result that comes while fewer are in flight goes at once, alone (today's
 * transaction on the main pool): no wait at low load. A batch that fails (a job's statement, a
 * deadlock with another node, a stale plan) rolled back whole, and each of its results then runs
 * alone, as without batching; one whose COMMIT's answer was lost fails each as a lost answer fails
 * one (the delivery retries it: recordResults only changes recipients still leased to the reporter).
 * The lanes are a third pool (pipeline mode) of up to RESULT_LANES connections: a node opens up to
 * poolSize + PUT_LANES + RESULT_LANES connections (docs/operations.md).
 */
const RESULT_LANES = 2;
const RESULT_BATCH_MAX = 32;

/**
 * Small bodies (readMessage: a delivery reads its message before MAIL FROM) asked for in one turn of
 * the event loop are read with one statement (reads.bodySources), up to this many at a time: a claim
 * starts its jobs together, and each read its body in a round trip of its own, the one statement a
 * delivered message still ran alone after puts and results were batched (bench/README.md,
 * twenty-first session). A read alone in its turn runs the one-row statement, as before; the wait is
 * one turn, not a timer. Each statement runs as any read does (#read: the main pool, a stale plan
 * retried once); when it fails, every read in it fails with that error, as each would have alone.
 * 16 × WHOLE_READ_MAX (256 KB, delivery/attempt.ts) bounds one answer at 4 MB.
 */
const BODY_READ_BATCH_MAX = 16;

interface QueuedResult extends writes.BatchedResult { resolve(): void; reject(err: unknown): void }

interface QueuedPut extends writes.BatchedPut { op: string; since: number; resolve(v: Map<string, Suppression> | null): void; reject(err: unknown): void }

export class PostgresQueueStore implements QueueStore {
  readonly suppressionLookupInPut = true;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #maxBodyBytes: number;
  /** Wall time: the injected clock may be a test's simulated time. */
  readonly #pending = new PendingBodies(systemClock, PENDING_MAX_AGE_MS);
  readonly #availability: StoreAvailability;
  #pool: pg.Pool | null = null;
  /** Connections in pg's pipeline mode, for batches of puts only (PUT_LANES of them at most). */
  #pipePool: pg.Pool | null = null;
  #putQueue: QueuedPut[] = [];
  #putsInFlight = 0;
  /** Connections in pg's pipeline mode, for batches of delivery results only (RESULT_LANES). */
  #resultPool: pg.Pool | null = null;
  #resultQueue: QueuedResult[] = [];
  #resultsInFlight = 0;
  /** Armed while #putQueue is not empty: fires when its oldest put has waited the connect timeout. */
  #putTimer: NodeJS.Timeout | null = null;
  /** readMessage calls of this turn of the event loop, read together when it ends (BODY_READ_BATCH_MAX). */
  #bodyReads: { id: string; resolve(v: reads.BodySource | null): void; reject(err: unknown): void }[] = [];

  constructor(private readonly opts: PostgresQueueStoreOptions) {
    this.#logger = opts.logger;
    this.#clock = opts.clock ?? systemClock;
    this.#maxBodyBytes = opts.maxBodyBytes ?? 26 * 1024 * 1024;
    this.#availability = new StoreAvailability({ logger: opts.logger, store: 'postgres' });
  }

  async open(): Promise<void> {
    if (this.#pool) throw new Error('queue store already open');
    // Loaded here, not at import: a SQLite relay never pays for the driver (bench/README.md "Memory").
    const { default: pgModule } = await import('pg');
    const poolOptions = {
      connectionString: this.opts.url, max: this.opts.poolSize ?? 10, types: pgTypesOver(pgModule.types),
      statement_timeout: this.opts.statementTimeoutMs ?? 30_000, connectionTimeoutMillis: this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: IDLE_TIMEOUT_MS,
      application_name: 'postlane',
    };
    const pool = new pgModule.Pool(poolOptions);
    // pg's Pool passes its options to each Client; `pipeline` is a Client option the Pool's type does not list.
    const pipePool = new pgModule.Pool({ ...poolOptions, max: PUT_LANES, pipeline: true } as pg.PoolConfig);
    pipePool.on('error', (err) => this.#logger.warn({ event: 'queue.pg_connection_lost', reason: err.message }, 'database connection lost'));
    pipePool.on('connect', (client) => {
      this.#planGenerationOf.set(client, this.#planGeneration);
      client.on('error', () => undefined);
    });
    const resultPool = new pgModule.Pool({ ...poolOptions, max: RESULT_LANES, pipeline: true } as pg.PoolConfig);
    // An idle connection dropped by the server must not crash the process; the next query reconnects.
    resultPool.on('error', (err) => this.#logger.warn({ event: 'queue.pg_connection_lost', reason: err.message }, 'database connection lost'));
    pool.on('error', (err) => this.#logger.warn({ event: 'queue.pg_connection_lost', reason: err.message }, 'database connection lost'));
    // Nor one dropped while checked out (pg-pool listens only on idle clients): its query fails
    // (a typed error for the caller) and release() sees it is no longer queryable and discards it.
    const onConnect = (client: pg.PoolClient): void => {
      this.#planGenerationOf.set(client, this.#planGeneration);
      client.on('error', () => undefined);
      events.setSoftBouncePolicy(client, this.opts.softBounces ?? DEFAULT_SOFT_BOUNCE_POLICY);
      breakers.setBreakerPolicy(client, this.opts.breakers ?? DEFAULT_BREAKER_POLICY);
    };
    pool.on('connect', onConnect);
    resultPool.on('connect', onConnect);
    try {
      const client = await pool.connect();
      try {
        const version = await migrate(client);
        this.#logger.info({ event: 'queue.opened', backend: 'postgres', schema: version }, 'queue database ready');
      } finally {
        client.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      await pipePool.end().catch(() => undefined);
      await resultPool.end().catch(() => undefined);
      throw new RelayError('ERR_QUEUE_OPEN', `could not open the PostgreSQL queue: ${(err as Error).message}`, undefined, { cause: err });
    }
    this.#pool = pool;
    this.#pipePool = pipePool;
    this.#resultPool = resultPool;
  }

  async checkWritable(): Promise<WriteCheck> {
    const outage = this.#availability.outage;
    if (outage) return { writable: false, reason: `writes failing since ${new Date(outage.since).toISOString()} (${outage.code ?? outage.reason})` };
    const slow = this.#availability.slowness;
    return slow ? { writable: true, reason: `writes slow: ${slow.slowestMs} ms`, slow } : { writable: true, reason: null };
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    const pipePool = this.#pipePool;
    const resultPool = this.#resultPool;
    this.#pool = null;
    this.#pipePool = null;
    this.#resultPool = null;
    for (const r of this.#resultQueue.splice(0)) r.reject(new QueueWriteError('queue store is not open'));
    if (this.#putTimer) clearTimeout(this.#putTimer);
    this.#putTimer = null;
    for (const p of this.#putQueue.splice(0)) p.reject(new QueueWriteError('queue store is not open'));
    await pool?.end();
    await pipePool?.end();
    await resultPool?.end();
  }

  /** Held in memory until put() inserts it with the message rows. */
  createBody(id: string): BodyWriter { return new MemoryBodyWriter(id, this.#pending, this.#maxBodyBytes); }

  /** The header prefix, then the body. The query starts now, overlapping what the caller does before reading. */
  readBody(id: string): Readable {
    const source = this.#read('bodySource', (c) => reads.bodySource(c, id));
    source.catch(() => undefined); // handled when the stream is read
    return Readable.from(bodyChunks(id, source), { objectMode: false });
  }

  async readMessage(id: string): Promise<Buffer | Readable> {
    const body = await new Promise<reads.BodySource | null>((resolve, reject) => {
      if (this.#bodyReads.push({ id, resolve, reject }) === 1) setImmediate(() => this.#flushBodyReads());
    });
    if (!body) throw new NotFoundError(`body of message ${id}`);
    return joinMessage(body.prefix, body.data);
  }

  /** The readMessage calls of the turn that ended: one statement for each BODY_READ_BATCH_MAX of them. */
  #flushBodyReads(): void {
    const asked = this.#bodyReads;
    this.#bodyReads = [];
    for (let i = 0; i < asked.length; i += BODY_READ_BATCH_MAX) {
      const batch = asked.slice(i, i + BODY_READ_BATCH_MAX);
      if (batch.length === 1) {
        const r = batch[0]!;
        this.#read('bodySource', (c) => reads.bodySource(c, r.id)).then(r.resolve, r.reject);
        continue;
      }
      const ids = [...new Set(batch.map((r) => r.id))];
      this.#read('bodySource', (c) => reads.bodySources(c, ids)).then(
        (found) => { for (const r of batch) r.resolve(found.get(r.id) ?? null); },
        (err: unknown) => { for (const r of batch) r.reject(err); });
    }
  }

  async put(message: NewMessage): Promise<void> {
    const body = this.#pending.take(message.id);
    if (!body) throw new QueueWriteError(`no finished body for message ${message.id}`);
    // One statement, one round trip (writes.putAlone); recipients suppressed beforehand take the transaction.
    if (message.suppressed?.length) await this.#write('put', (c) => writes.put(c, message, this.#clock.now(), body));
    else await this.#putAlone('put', message, body, false);
  }

  /**
   * put with the suppression lookup in the same statement (writes.putAlone, one round trip); when
   * it finds entries it wrote nothing, and the put runs again as a transaction that marks them.
   */
  async putCheckingSuppressions(message: NewMessage): Promise<Map<string, Suppression>> {
    const body = this.#pending.take(message.id);
    if (!body) throw new QueueWriteError(`no finished body for message ${message.id}`);
    if (!message.suppressed) {
      const none = await this.#putAlone('putCheckingSuppressions', message, body, true);
      if (none) return none;
    }
    return await this.#write('putCheckingSuppressions', (c) => writes.putCheckingSuppressions(c, message, this.#clock.now(), body));
  }

  /** One transaction for all of them; every body is taken first, so a missing one writes nothing. */
  async putMany(messages: NewMessage[]): Promise<void> {
    if (messages.length === 0) throw new QueueWriteError('putMany: no messages');
    const bodies = messages.map((m) => this.#pending.take(m.id));
    const missing = messages.find((_, i) => !bodies[i]);
    if (missing) throw new QueueWriteError(`no finished body for message ${missing.id}`);
    await this.#write('putMany', async (c) => {
      for (const [i, m] of messages.entries()) await writes.put(c, m, this.#clock.now(), bodies[i]!);
    });
  }

  claimDue(opts: ClaimOptions): Promise<DeliveryJob[]> { return this.#write('claimDue', (c) => claimDue(c, opts)); }

  async recordResults(messageId: string, outcomes: RecipientOutcome[], generated: GeneratedMessage[] = [],
    opts: RecordResultsOptions = {}): Promise<void> {
    const withBodies = generated.map((g) => ({ g, body: this.#pending.take(g.message.id) }));
    const missing = withBodies.find((x) => !x.body);
    if (missing) throw new QueueWriteError(`no finished body for generated message ${missing.g.message.id}`);
    try {
      await new Promise<void>((resolve, reject) => {
        this.#resultQueue.push({ messageId, outcomes, generated: withBodies as writes.BatchedResult['generated'], opts, resolve, reject });
        this.#drainResults();
      });
    } catch (err) {
      // Nothing was committed: keep the DSN bodies so the caller may retry (delivery/record-retry.ts).
      for (const { g, body } of withBodies) this.#pending.add(g.message.id, body!);
      throw err;
    }
  }

  releaseLeases(owner: string | null): Promise<number> {
    return this.#write('releaseLeases', (c) => writes.releaseLeases(c, owner, this.#clock.now()));
  }

  nextDueAt(): Promise<number | null> { return this.#read('nextDueAt', reads.nextDueAt); }

  acquireDestinationSlots(o: AcquireSlotsOptions): Promise<DestinationSlot[]> { return this.#write('acquireDestinationSlots', (c) => slots.acquireSlots(c, o)); }
  renewDestinationSlots(o: { owner: string; now: number; leaseMs: number }): Promise<DestinationSlot[]> {
    return this.#write('renewDestinationSlots', (c) => slots.renewSlots(c, o));
  }
  releaseDestinationSlots(owner: string, which?: DestinationSlot[]): Promise<number> {
    return this.#write('releaseDestinationSlots', (c) => slots.releaseSlots(c, owner, which));
  }
  unclaimJobs(owner: string, jobs: { messageId: string; domain: string }[], dueAt?: number): Promise<number> {
    return this.#write('unclaimJobs', (c) => slots.unclaimJobs(c, owner, jobs, this.#clock.now(), dueAt ?? 0));
  }

  listRecipients(opts: { state?: RecipientState; includeFinal?: boolean; limit?: number } = {}): Promise<RecipientView[]> {
    return this.#read('listRecipients', (c) => reads.listRecipients(c, opts));
  }

  getMessage(id: string): Promise<MessageView | null> { return this.#read('getMessage', (c) => reads.getMessage(c, id)); }
  retry(id: string | null, now: number): Promise<number> { return this.#write('retry', (c) => writes.retry(c, id, now)); }
  /** Holds queued/deferred recipients only; ones being delivered at this moment finish their attempt. */
  hold(id: string): Promise<number> { return this.#write('hold', (c) => writes.hold(c, id, this.#clock.now())); }
  release(id: string, now: number): Promise<number> { return this.#write('release', (c) => writes.release(c, id, now)); }
  deleteMessage(id: string): Promise<boolean> { return this.#write('deleteMessage', (c) => writes.deleteMessage(c, id)); }
  purgeFinished(before: number): Promise<number> { return this.#write('purgeFinished', (c) => writes.purgeFinished(c, before)); }
  counts(): Promise<QueueCounts> { return this.#read('counts', reads.counts); }

  addUser(user: NewUser): Promise<void> { return this.#write('addUser', (c) => writes.addUser(c, user)); }
  getUser(name: string): Promise<UserRecord | null> { return this.#read('getUser', (c) => reads.getUser(c, name)); }
  listUsers(account?: string): Promise<UserRecord[]> { return this.#read('listUsers', (c) => reads.listUsers(c, account ?? null)); }
  setUserLimits(name: string, limits: RateLimits): Promise<boolean> { return this.#write('setUserLimits', (c) => accounts.setUserLimits(c, name, limits)); }
  setUserDefaultStream(name: string, stream: UserRecord['defaultStream']): Promise<boolean> {
    return this.#write('setUserDefaultStream', (c) => accounts.setUserDefaultStream(c, name, stream));
  }
  recordHeartbeat(h: NodeHeartbeat): Promise<void> { return this.#write('recordHeartbeat', (c) => writes.recordHeartbeat(c, h)); }
  listNodes(since: number): Promise<NodeHeartbeat[]> { return this.#read('listNodes', (c) => reads.listNodes(c, since)); }
  removeUser(name: string): Promise<boolean> { return this.#write('removeUser', (c) => writes.removeUser(c, name)); }
  changeUser(name: string, change: UserChange): Promise<boolean> { return this.#write('changeUser', (c) => domains.changeUser(c, name, change)); }
  setUserDomains(name: string, grant: UserDomainGrant): Promise<boolean> {
    return this.#write('setUserDomains', (c) => domains.setUserDomains(c, name, grant));
  }

  addDomain(domain: SendingDomain): Promise<void> { return this.#write('addDomain', (c) => domains.addDomain(c, domain)); }
  getDomain(name: string): Promise<SendingDomain | null> { return this.#read('getDomain', (c) => domains.getDomain(c, name)); }
  listDomains(account?: string): Promise<SendingDomain[]> { return this.#read('listDomains', (c) => domains.listDomains(c, account ?? null)); }
  listDomainNames(account: string): Promise<string[]> { return this.#read('listDomainNames', (c) => domains.listDomainNames(c, account)); }
  removeDomain(name: string): Promise<boolean> { return this.#write('removeDomain', (c) => domains.removeDomain(c, name)); }
  addDkimKey(domain: string, key: DkimKey): Promise<void> { return this.#write('addDkimKey', (c) => domains.addDkimKey(c, domain, key)); }
  activateDkimKey(domain: string, selector: string): Promise<boolean> {
    return this.#write('activateDkimKey', (c) => domains.activateDkimKey(c, domain, selector));
  }

  // the platform store (account-ops.ts, event-ops.ts, webhook-ops.ts)
  addAccount(a: Account): Promise<void> { return this.#write('addAccount', (c) => accounts.addAccount(c, a)); }
  getSecrets(purpose: SecretPurpose): Promise<Buffer[]> {
    return this.#read('getSecrets', async (c) => (await c.query<{ secret: Buffer }>(SELECT_SECRETS.text, [purpose])).rows.map((r) => r.secret));
  }
  addSecret(purpose: SecretPurpose, secret: Buffer, createdAt: number, retireBefore: number): Promise<void> {
    return this.#write('addSecret', async (c) => {
      await c.query(INSERT_SECRET.text, [purpose, createdAt, secret]);
      await c.query(RETIRE_SECRETS.text, [purpose, retireBefore]);
    });
  }
  readStats(q: StatsQuery): Promise<StatsRow[]> { return this.#read('readStats', (c) => stats.readStats(c, q)); }
  compactStats(): Promise<number> {
    return this.#write('compactStats', async (c) =>
      (await stats.compactStats(c)) + (await compactQueueCounts(c)) + (await breakers.foldBreakerShards(c, this.#clock.now())));
  }
  async addTlsOutcomes(rows: TlsOutcomeCount[]): Promise<void> {
    if (rows.length > 0) await this.#writeRetrying('addTlsOutcomes', (c) => tlsReports.addTlsOutcomes(c, rows));
  }
  readTlsOutcomes(day: number, domain?: string): Promise<TlsOutcomeCount[]> {
    return this.#read('readTlsOutcomes', (c) => tlsReports.readTlsOutcomes(c, day, domain ?? null));
  }
  claimTlsReport(k: TlsReportClaim): Promise<{ attempts: number; detail: string } | null> { return this.#writeRetrying('claimTlsReport', (c) => tlsReports.claimTlsReport(c, k)); }
  finishTlsReport(domain: string, day: number, owner: string, state: TlsReportState, detail: string, retryAt?: number): Promise<void> {
    return this.#write('finishTlsReport', (c) => tlsReports.finishTlsReport(c, domain, day, owner, state, detail, retryAt ?? null));
  }
  listTlsReports(limit: number): Promise<TlsReportRow[]> { return this.#read('listTlsReports', (c) => tlsReports.listTlsReports(c, limit)); }
  purgeTlsReports(day: number): Promise<number> { return this.#write('purgeTlsReports', (c) => tlsReports.purgeTlsReports(c, day)); }
  addSuppressions(entries: Suppression[], opts: { replace?: boolean } = {}): Promise<number> {
    return this.#write('addSuppressions', (c) => suppressions.addSuppressions(c, entries, opts));
  }
  removeSuppression(account: string, address: string, scope?: SuppressionScope): Promise<number> {
    return this.#write('removeSuppression', (c) => suppressions.removeSuppression(c, account, address, scope ?? null));
  }
  listSuppressions(q: SuppressionQuery): Promise<Suppression[]> { return this.#read('listSuppressions', (c) => suppressions.listSuppressions(c, q)); }
  findSuppressions(account: string, stream: 'transactional' | 'broadcast', addresses: string[]): Promise<Map<string, Suppression>> {
    return this.#read('findSuppressions', (c) => suppressions.findSuppressions(c, account, stream, addresses));
  }
  getAccount(name: string): Promise<Account | null> { return this.#read('getAccount', (c) => accounts.getAccount(c, name)); }
  listAccounts(): Promise<Account[]> { return this.#read('listAccounts', accounts.listAccounts); }
  removeAccount(name: string): Promise<boolean> { return this.#write('removeAccount', (c) => accounts.removeAccount(c, name)); }
  setAccountLimits(name: string, limits: RateLimits): Promise<boolean> { return this.#write('setAccountLimits', (c) => accounts.setAccountLimits(c, name, limits)); }
  setAccountTrackingDomain(name: string, domain: string | null): Promise<boolean> {
    return this.#write('setAccountTrackingDomain', (c) => accounts.setAccountTrackingDomain(c, name, domain));
  }
  addApiKey(k: ApiKeyRecord): Promise<void> { return this.#write('addApiKey', (c) => accounts.addApiKey(c, k)); }
  getApiKey(id: string): Promise<ApiKeyRecord | null> { return this.#read('getApiKey', (c) => accounts.getApiKey(c, id)); }
  listApiKeys(account: string): Promise<ApiKeyRecord[]> { return this.#read('listApiKeys', (c) => accounts.listApiKeys(c, account)); }
  revokeApiKey(account: string, id: string, at: number): Promise<boolean> { return this.#write('revokeApiKey', (c) => accounts.revokeApiKey(c, account, id, at)); }
  touchApiKey(id: string, at: number): Promise<void> { return this.#write('touchApiKey', (c) => accounts.touchApiKey(c, id, at)); }
  consumeQuota(windows: QuotaWindow[], n: number): Promise<QuotaResult> {
    return this.#writeRetrying('consumeQuota', (c) => accounts.consumeQuota(c, windows, n));
  }
  quotaUsage(windows: Omit<QuotaWindow, 'limit'>[]): Promise<number[]> { return this.#read('quotaUsage', (c) => accounts.quotaUsage(c, windows)); }
  appendEvents(list: Omit<MessageEvent, 'id' | 'seq'>[]): Promise<MessageEvent[]> { return this.#write('appendEvents', (c) => events.appendEvents(c, list)); }
  listEvents(q: EventQuery): Promise<MessageEvent[]> { return this.#read('listEvents', (c) => events.listEvents(c, q)); }
  purgeEvents(before: number): Promise<number> { return this.#write('purgeEvents', (c) => events.purgeEvents(c, before)); }
  getMessageMeta(id: string): Promise<MessageMeta | null> { return this.#read('getMessageMeta', (c) => events.getMessageMeta(c, id)); }
  searchMessages(q: MessageSearch): Promise<MessageSummary[]> { return this.#read('searchMessages', (c) => events.searchMessages(c, q)); }
  addWebhook(w: Webhook, maxPerAccount?: number): Promise<boolean> { return this.#write('addWebhook', (c) => webhooks.addWebhook(c, w, maxPerAccount)); }
  listWebhooks(account: string): Promise<Webhook[]> { return this.#read('listWebhooks', (c) => webhooks.listWebhooks(c, account)); }
  getWebhook(account: string, id: string): Promise<Webhook | null> { return this.#read('getWebhook', (c) => webhooks.getWebhook(c, account, id)); }
  removeWebhook(account: string, id: string): Promise<boolean> { return this.#write('removeWebhook', (c) => webhooks.removeWebhook(c, account, id)); }
  setWebhookEnabled(account: string, id: string, enabled: boolean, reason: string | null, at: number): Promise<boolean> {
    return this.#write('setWebhookEnabled', (c) => webhooks.setWebhookEnabled(c, account, id, enabled, reason, at));
  }
  claimWebhookBatches(opts: ClaimWebhookOptions): Promise<WebhookBatch[]> {
    return this.#write('claimWebhookBatches', (c) => webhooks.claimWebhookBatches(c, opts));
  }
  recordWebhookAttempt(a: WebhookAttempt, retryAt: number | null): Promise<void> {
    return this.#write('recordWebhookAttempt', (c) => webhooks.recordWebhookAttempt(c, a, retryAt));
  }
  listWebhookAttempts(account: string, webhookId: string, limit: number): Promise<WebhookAttempt[]> {
    return this.#read('listWebhookAttempts', (c) => webhooks.listWebhookAttempts(c, account, webhookId, limit));
  }
  reserveIdempotencyKey(account: string, key: string, requestHash: string, now: number): Promise<IdempotencyRecord | null> {
    return this.#writeRetrying('reserveIdempotencyKey', (c) => accounts.reserveIdempotencyKey(c, account, key, requestHash, now));
  }
  completeIdempotencyKey(account: string, key: string, response: { status: number; body: unknown }): Promise<void> {
    return this.#write('completeIdempotencyKey', (c) => accounts.completeIdempotencyKey(c, account, key, response));
  }
  releaseIdempotencyKey(account: string, key: string): Promise<void> {
    return this.#write('releaseIdempotencyKey', (c) => accounts.releaseIdempotencyKey(c, account, key));
  }
  purgeIdempotencyKeys(before: number): Promise<number> { return this.#write('purgeIdempotencyKeys', (c) => accounts.purgeIdempotencyKeys(c, before)); }

  // provider suspensions of traffic shaping (shaping-ops.ts), shared by every node
  recordSuspension(s: ProviderSuspension): Promise<void> { return this.#write('recordSuspension', (c) => shaping.recordSuspension(c, s)); }
  listSuspensions(now: number): Promise<ProviderSuspension[]> { return this.#read('listSuspensions', (c) => shaping.listSuspensions(c, now)); }

  // circuit breakers (breaker-ops.ts)
  listBreakers(q: BreakerQuery): Promise<Breaker[]> { return this.#read('listBreakers', (c) => breakers.listBreakers(c, q)); }
  resumeBreaker(id: number, by: string, reason: string, now: number): Promise<Breaker | null> {
    return this.#write('resumeBreaker', (c) => breakers.resumeBreaker(c, id, by, reason, now,
      (account, data) => events.writeEvents(c, account, [{ at: now, type: 'breaker.resumed', messageId: null, recipient: null, data }])));
  }

  // egress sources and warmup (source-ops.ts)
  listSources(): Promise<StoredSource[]> { return this.#read('listSources', (c) => sources.listSources(c)); }
  addSource(s: NewSource, now: number): Promise<boolean> { return this.#write('addSource', (c) => sources.addSource(c, s, now)); }
  setSourceState(name: string, state: SourceState, now: number): Promise<void> { return this.#write('setSourceState', (c) => sources.setSourceState(c, name, state, now)); }
  takeWarmup(source: string, provider: string, day: number, cap: number): Promise<boolean> {
    return this.#writeRetrying('takeWarmup', (c) => sources.takeWarmup(c, source, provider, day, cap));
  }
  readWarmup(day: number): Promise<WarmupCount[]> { return this.#read('readWarmup', (c) => sources.readWarmup(c, day)); }
  purgeWarmup(day: number): Promise<number> { return this.#write('purgeWarmup', (c) => sources.purgeWarmup(c, day)); }
  postponeJobs(owner: string, jobs: { messageId: string; domain: string }[], until: number, now: number): Promise<number> {
    return this.#write('postponeJobs', (c) => sources.postponeJobs(c, owner, jobs, until, now));
  }

  // dashboard users and sessions (dashboard-ops.ts)
  addDashboardUser(user: DashboardUser): Promise<boolean> { return this.#write('addDashboardUser', (c) => dashboard.addDashboardUser(c, user)); }
  getDashboardUser(username: string): Promise<DashboardUser | null> { return this.#read('getDashboardUser', (c) => dashboard.getDashboardUser(c, username)); }
  listDashboardUsers(): Promise<DashboardUser[]> { return this.#read('listDashboardUsers', (c) => dashboard.listDashboardUsers(c)); }
  removeDashboardUser(username: string): Promise<boolean> { return this.#write('removeDashboardUser', (c) => dashboard.removeDashboardUser(c, username)); }
  setDashboardPassword(username: string, passwordHash: string, now: number): Promise<boolean> {
    return this.#write('setDashboardPassword', (c) => dashboard.setDashboardPassword(c, username, passwordHash, now));
  }
  createDashboardSession(session: DashboardSession, now: number): Promise<void> {
    return this.#write('createDashboardSession', (c) => dashboard.createDashboardSession(c, session, now));
  }
  getDashboardSession(tokenHash: string, now: number): Promise<{ session: DashboardSession; user: DashboardUser } | null> {
    return this.#read('getDashboardSession', (c) => dashboard.getDashboardSession(c, tokenHash, now));
  }
  touchDashboardSession(tokenHash: string, idleUntil: number): Promise<void> {
    return this.#write('touchDashboardSession', (c) => dashboard.touchDashboardSession(c, tokenHash, idleUntil));
  }
  deleteDashboardSession(tokenHash: string): Promise<boolean> { return this.#write('deleteDashboardSession', (c) => dashboard.deleteDashboardSession(c, tokenHash)); }

  // the queue overview (queue-overview-ops.ts)
  queueOverview(account: string | null, domains: number): Promise<QueueOverview> { return this.#read('queueOverview', (c) => queueOverview(c, account, domains)); }

  // the queue depth (queue-depth-ops.ts)
  queueDepth(): Promise<QueueDepth> { return this.#read('queueDepth', queueDepth); }

  // webhook replay (webhook-replay-ops.ts)
  replayWebhookEvents(account: string, webhookId: string, seqs: number[], now: number): Promise<number> {
    return this.#write('replayWebhookEvents', (c) => replayWebhookEvents(c, account, webhookId, seqs, now));
  }

  /**
   * writes.putAlone, at once when fewer than PUT_LANES puts are in flight, else with the puts
   * waiting beside it as one batch (PUT_LANES).
   */
  #putAlone(op: string, m: NewMessage, body: Buffer, checking: boolean): Promise<Map<string, Suppression> | null> {
    const refused = writes.putAloneRefusal(m); // fails alone, as without batching: never a batch's
    if (refused) return Promise.reject(this.#toError(op, refused, true));
    return new Promise((resolve, reject) => {
      this.#putQueue.push({ op, m, body, checking, since: performance.now(), resolve, reject });
      this.#drainPuts();
      this.#expirePuts();
    });
  }

  /**
   * Fails the puts that waited in #putQueue the connect timeout (the oldest are first) as a pool
   * connect timeout does (QueueUnavailableError, availability failed), and arms one timer for the
   * next: it fires even when every lane is stuck (a lock, a server that stopped answering).
   */
  #expirePuts(): void {
    const limit = this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    if (this.#putTimer || limit <= 0) return; // 0: pg waits for a connection without limit, and so does the queue
    const now = performance.now();
    const fresh = this.#putQueue.findIndex((p) => now - p.since < limit);
    for (const p of this.#putQueue.splice(0, fresh < 0 ? this.#putQueue.length : fresh)) {
      const waited = Math.round(now - p.since);
      p.reject(this.#toError(p.op, new Error(`timeout exceeded when trying to connect (waited ${waited} ms behind ${PUT_LANES} puts in flight)`), true));
    }
    const oldest = this.#putQueue[0];
    if (!oldest) return;
    this.#putTimer = setTimeout(() => { this.#putTimer = null; this.#expirePuts(); }, oldest.since + limit - now);
    this.#putTimer.unref();
  }

  #drainPuts(): void {
    while (this.#putsInFlight < PUT_LANES && this.#putQueue.length > 0) {
      let n = 1;
      for (let bytes = this.#putQueue[0]!.body.length; n < Math.min(PUT_BATCH_MAX, this.#putQueue.length); n++) {
        bytes += this.#putQueue[n]!.body.length;
        if (bytes > PUT_BATCH_MAX_BYTES) break;
      }
      const batch = this.#putQueue.splice(0, n);
      this.#putsInFlight++;
      void this.#runPuts(batch).finally(() => {
        this.#putsInFlight--;
        this.#drainPuts();
      });
    }
  }

  #drainResults(): void {
    while (this.#resultsInFlight < RESULT_LANES && this.#resultQueue.length > 0) {
      // One job per message in a batch (a later result of one message waits for the next batch).
      const batch: QueuedResult[] = [];
      const ids = new Set<string>();
      this.#resultQueue = this.#resultQueue.filter((r) => {
        if (batch.length >= RESULT_BATCH_MAX || ids.has(r.messageId)) return true;
        ids.add(r.messageId);
        batch.push(r);
        return false;
      });
      this.#resultsInFlight++;
      void this.#runResults(batch).finally(() => {
        this.#resultsInFlight--;
        this.#drainResults();
      });
    }
  }

  async #runResults(batch: QueuedResult[]): Promise<void> {
    // Alone: one result, or during an outage (each then reports what it finds, as without batching).
    if (batch.length > 1 && this.#availability.writable) {
      batch.sort((a, b) => (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0)); // one lock order on every node
      let committed: boolean;
      try {
        committed = await this.#writeResultBatch(batch);
      } catch (err) {
        for (const r of batch) r.reject(err); // COMMIT sent, its answer lost: unknown for each (RESULT_LANES' comment)
        return;
      }
      if (committed) {
        for (const r of batch) r.resolve();
        return;
      }
    }
    await Promise.all(batch.map((r) => this.#write('recordResults', (c) =>
      writes.recordResults(c, r.messageId, r.outcomes, r.generated, r.opts, this.#clock.now())).then(r.resolve, r.reject)));
  }

  /**
   * writes.recordResultsBatch on a pipelining connection; false when it was not sent (no connection)
   * or rolled back (the connection is then discarded); throws only when COMMIT's answer was lost.
   */
  async #writeResultBatch(batch: QueuedResult[]): Promise<boolean> {
    const done = this.#availability.writeStarted('recordResults');
    let client: pg.PoolClient;
    try { client = await this.#freshClient(this.#resultPool); } catch { done(); return false; }
    let committed = false;
    try {
      committed = await writes.recordResultsBatch(client, batch, this.#clock.now());
      if (committed) this.#availability.succeeded();
      return committed;
    } catch (err) {
      throw this.#toError('recordResults', err instanceof writes.CommitUnknown ? err.cause : err, true);
    } finally {
      client.release(!committed);
      done();
    }
  }

  async #runPuts(batch: QueuedPut[]): Promise<void> {
    if (batch.length === 1) return this.#putOne(batch[0]!);
    let outcome: writes.BatchOutcome | null;
    try {
      outcome = await this.#writeBatch(batch);
    } catch (err) {
      for (const p of batch) p.reject(err); // COMMIT sent, its answer lost: outcome unknown for each (PUT_LANES' comment)
      return;
    }
    // Rolled back because the database is unavailable (a timeout, a full disk, a lost race): nothing
    // was written, and running each put alone would only send the same load to the main pool, where
    // claims and results wait for connections. Each fails as a lone put would (451/503).
    const cause = outcome?.committed === false ? outcome.answers.find((a) => a.status === 'rejected')?.reason : undefined;
    if (cause !== undefined && isUnavailable(cause)) {
      const err = this.#toError(batch[0]!.op, cause, true);
      for (const p of batch) p.reject(err);
      return;
    }
    const again: QueuedPut[] = [];
    batch.forEach((p, i) => {
      const a = outcome?.committed ? outcome.answers[i] : undefined;
      if (a?.status === 'fulfilled') p.resolve(a.value);
      else again.push(p);
    });
    // Not written (the batch was not sent: no pipelining connection; or a statement failed and it
    // rolled back): each on its own, as without batching, so that only a message at fault fails.
    await Promise.all(again.map((p) => this.#putOne(p)));
  }

  #putOne(p: QueuedPut): Promise<void> {
    return this.#writeAlone(p.op, (c) => writes.putAlone(c, p.m, this.#clock.now(), p.body, p.checking)).then(p.resolve, p.reject);
  }

  /**
   * putAloneBatch on a pipelining connection, discarded unless the batch committed whole (a stale
   * plan, a failed statement). Null when it was not sent (no pipelining connection: each put then
   * tries the main pool); throws only when COMMIT's answer was lost (writes.CommitUnknown).
   */
  async #writeBatch(batch: QueuedPut[]): Promise<writes.BatchOutcome | null> {
    const op = batch[0]!.op;
    const done = this.#availability.writeStarted(op);
    let client: pg.PoolClient;
    // Not #connect: a lane that cannot connect (e.g. max_connections reached by the lanes) is no
    // outage while the main pool works; each put then runs there and reports what it finds.
    try { client = await this.#freshClient(this.#pipePool); } catch { done(); return null; }
    let clean = false;
    try {
      const outcome = await writes.putAloneBatch(client, batch, this.#clock.now());
      const wrote = outcome.committed && outcome.answers.some((a) => a.status === 'fulfilled' && a.value !== null);
      clean = outcome.committed && outcome.answers.every((a) => a.status === 'fulfilled');
      if (outcome.committed && (this.#availability.writable || wrote)) this.#availability.succeeded();
      return outcome;
    } catch (err) {
      throw this.#toError(op, err instanceof writes.CommitUnknown ? err.cause : err, true);
    } finally {
      client.release(!clean);
      done();
    }
  }

  /**
   * #write, run again (up to 3 times) when the transaction lost a race it cannot win by waiting: a
   * deadlock or serialization failure, or a row that changed between two of its statements.
   */
  async #writeRetrying<T>(op: string, fn: (c: Conn) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#write(op, fn);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; kind?: string } }).cause;
        const retryable = cause?.code === '40P01' || cause?.code === '40001' || (cause instanceof OpError && cause.kind === 'retry');
        if (!retryable || attempt >= 3) throw err;
      }
    }
  }

  /**
   * One transaction: committed (durable) when this resolves; rolled back and a typed error otherwise.
   * A transaction that failed on a stale prepared statement (isStalePlan) is run once more on a fresh
   * connection: nothing of it was committed, and the connection that failed is discarded.
   */
  #write<T>(op: string, fn: (c: Conn) => Promise<T>): Promise<T> {
    return this.#onceMoreIfStale(op, (last) => this.#writeOnce(op, fn, last));
  }

  /** Runs `attempt(false)`; when it failed on a stale plan (StalePlan), `attempt(true)` once more. */
  async #onceMoreIfStale<T>(op: string, attempt: (last: boolean) => Promise<T>): Promise<T> {
    try {
      return await attempt(false);
    } catch (err) {
      if (!(err instanceof StalePlan)) throw err;
      this.#stalePlan(op, err.cause);
      return await attempt(true);
    }
  }

  /**
   * One write on a pooled connection: a transaction, or (`alone`) one statement outside a
   * transaction (#writeAlone).
   */
  async #writeOnce<T>(op: string, fn: (c: Conn) => Promise<T>, last: boolean, alone = false): Promise<T> {
    const done = this.#availability.writeStarted(op); // timed from the wait for a connection (/readyz degraded)
    let client: pg.PoolClient;
    try { client = await this.#connect(op); } catch (err) { done(); throw err; }
    let broken = false;
    try {
      if (alone) {
        const result = await fn(client);
        if (this.#availability.writable || result !== null) this.#availability.succeeded();
        return result;
      }
      await client.query('BEGIN');
      const result = await fn(client);
      // During an outage only a transaction that wrote (an xid was assigned) proves the server takes
      // writes again: an empty one (nothing due to claim) commits without a WAL record, even on a full disk.
      const proves = this.#availability.writable || await wroteSomething(client);
      await client.query('COMMIT');
      if (proves) this.#availability.succeeded();
      return result;
    } catch (err) {
      if (!alone) await client.query('ROLLBACK').catch(() => { broken = true; });
      const f = this.#failed(op, err, last, true);
      broken ||= f.stale;
      throw f.error;
    } finally {
      client.release(broken);
      done();
    }
  }

  /**
   * One statement outside a transaction (`fn` must run exactly one): PostgreSQL commits it when it
   * ends, before answering, so this resolves durable like #write, without BEGIN and COMMIT's two
   * round trips; a failed one committed nothing. It proves the server takes writes again (an
   * outage's end) when `fn` answers non-null: the statement wrote (putAlone's contract).
   */
  #writeAlone<T>(op: string, fn: (c: Conn) => Promise<T>): Promise<T> {
    return this.#onceMoreIfStale(op, (last) => this.#writeOnce(op, fn, last, true));
  }

  #read<T>(op: string, fn: (c: Conn) => Promise<T>): Promise<T> {
    return this.#onceMoreIfStale(op, (last) => this.#readOnce(op, fn, last));
  }

  async #readOnce<T>(op: string, fn: (c: Conn) => Promise<T>, last: boolean): Promise<T> {
    const client = await this.#connect(op);
    let broken = false;
    try {
      return await fn(client); // only a write ends an outage (store-availability.ts)
    } catch (err) {
      const f = this.#failed(op, err, last, false);
      broken = f.stale;
      throw f.error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * What a failed statement throws. A stale plan (`stale`: discard the connection, its prepared
   * statements would fail the same way at every later use) also marks every connection made before
   * (#planGeneration) and is thrown as StalePlan for #onceMoreIfStale to retry, unless `last`.
   */
  #failed(op: string, err: unknown, last: boolean, write: boolean): { error: Error; stale: boolean } {
    if (!isStalePlan(err)) return { error: this.#toError(op, err, write), stale: false };
    this.#planGeneration++;
    return { error: last ? this.#toError(op, err, write) : new StalePlan(err), stale: true };
  }

  #stalePlan(op: string, err: unknown): void {
    this.#logger.warn({ event: 'queue.stale_plan', op, reason: (err as Error).message },
      'prepared statement invalidated by a schema change: connection discarded, operation retried');
  }

  /**
   * Bumped when a stale plan is seen: every connection made before then prepared its statements
   * against the old schema, so #connect discards it instead of handing it out (the pool gives idle
   * connections first, and all of them would fail the same way).
   */
  #planGeneration = 0;
  readonly #planGenerationOf = new WeakMap<object, number>();

  async #connect(op: string): Promise<pg.PoolClient> {
    try {
      return await this.#freshClient(this.#pool);
    } catch (err) {
      throw err instanceof QueueWriteError ? err : this.#toError(op, err, true);
    }
  }

  /** A connection of `pool` prepared against the current schema (#planGeneration). */
  async #freshClient(pool: pg.Pool | null): Promise<pg.PoolClient> {
    if (!pool) throw new QueueWriteError('queue store is not open');
    for (;;) {
      const client = await pool.connect();
      if ((this.#planGenerationOf.get(client) ?? this.#planGeneration) >= this.#planGeneration) return client;
      client.release(true); // prepared before the schema changed
    }
  }

  #toError(op: string, err: unknown, write: boolean): Error {
    if (err instanceof OpError) {
      if (err.kind === 'user-exists') return new RelayError('ERR_USER_EXISTS', err.message, undefined, { cause: err });
      if (err.kind === 'account-exists') return new RelayError('ERR_ACCOUNT_EXISTS', err.message, undefined, { cause: err });
      if (err.kind === 'account-default') return new RelayError('ERR_ACCOUNT_DEFAULT', err.message, undefined, { cause: err });
      if (err.kind === 'domain-exists') return new RelayError('ERR_DOMAIN_EXISTS', err.message, undefined, { cause: err });
      if (err.kind === 'selector-exists') return new RelayError('ERR_SELECTOR_EXISTS', err.message, undefined, { cause: err });
      if (err.kind === 'not-found') return new NotFoundError(err.message);
    }
    const { message, code } = err as { message?: string; code?: string };
    if (isUnavailable(err)) {
      this.#availability.failed(op, err);
      this.#logger.debug({ event: 'queue.op_unavailable', op, code, reason: message }, 'queue operation failed: database unavailable');
      return new QueueUnavailableError(`queue ${op} failed: database unavailable (${message})`, { cause: err });
    }
    if (!write) {
      this.#logger.error({ event: 'queue.read_failed', op, code, reason: message }, 'queue read failed');
      return new RelayError('ERR_QUEUE_READ', `queue ${op} failed`, undefined, { cause: err });
    }
    this.#logger.error({ event: 'queue.write_failed', op, code, reason: message }, 'queue write failed');
    return new QueueWriteError(`queue ${op} failed: ${message}`, { cause: err });
  }
}

/**
 * A prepared statement whose result shape changed under it (SQLSTATE 0A000, "cached plan must not
 * change result type": a migration by another node altered a column it returns). PostgreSQL will
 * not re-plan it, so every later use on that connection fails the same way.
 */
export function isStalePlan(err: unknown): boolean {
  const { code, routine, message } = (err ?? {}) as { code?: unknown; routine?: unknown; message?: unknown };
  // The routine's name is not translated (lc_messages); the message is the fallback.
  return code === '0A000' && (routine === 'RevalidateCachedQuery'
    || (typeof message === 'string' && message.includes('cached plan must not change result type')));
}

/** The first failure of an operation on a stale plan, carried to the retry. */
class StalePlan extends Error {
  constructor(override readonly cause: unknown) { super('stale prepared statement'); }
}

async function wroteSomething(c: pg.PoolClient): Promise<boolean> {
  const { rows } = await c.query<{ xid: string | null }>('SELECT txid_current_if_assigned()::text AS xid');
  return rows[0]?.xid != null;
}

async function* bodyChunks(id: string, source: Promise<{ prefix: string | null; data: Buffer } | null>): AsyncGenerator<Buffer> {
  const body = await source;
  if (!body) throw new NotFoundError(`body of message ${id}`);
  if (body.prefix) yield Buffer.from(body.prefix, 'latin1');
  yield body.data;
}
