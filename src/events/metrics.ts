// Prometheus metrics (prom-client, on a Registry of our own, never the global one): what the
// HTTP server's /metrics renders. Stages report through small observer calls (countAccepted,
// observeDeliveries, observeWebhookAttempt); queue depth is read from the store when scraped,
// cached for a few seconds so frequent scrapes never hammer the database.
//
// A scrape's queue depth is a light read (store.queueDepth: the queue counters and the recipients
// in flight, a few rows per account and domain), never one that grows with the history. The
// finished states of the same gauge (delivered, bounced, expired, suppressed: the recipients kept
// for storage.retainFinished) can only be had by counting them (store.counts: the heavy read that
// starts SQLite's heavy-read thread in storage.sqliteThread: main, a scan of recipient on
// PostgreSQL), so they are read again at most every `finishedCountsEveryMs` (5 minutes), on a
// scrape: that thread then lives ~30 s of each 5 minutes someone scrapes, not always.
//
// Label cardinality is bounded: `account` is a tenant name (operator-created); `domain` is the
// recipient domain, which senders choose freely, so only the first `maxDomainLabels` distinct
// domains seen by this process get their own series and the rest are counted as 'other'.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { systemClock, type Clock } from '../clock.js';
import { DEFAULT_ACCOUNT } from '../store/platform-store.js';
import type { QueueDepth } from '../store/queue-depth-store.js';
import { FINAL_STATES, type DeliveryJob, type QueueCounts, type RecipientOutcome } from '../store/store.js';

export interface MetricsStore {
  queueDepth(): Promise<QueueDepth>;
  counts(): Promise<QueueCounts>;
}

export interface MetricsOptions {
  store: MetricsStore;
  clock?: Clock;
  /** Distinct recipient domains given their own label value; the rest are 'other'. Default 100. */
  maxDomainLabels?: number;
  /** How long a queue-depth reading (queued, deferred, delivering, held) is reused. Default 5 s. */
  queueDepthCacheMs?: number;
  /** How long the finished states' counts (delivered, bounced, expired, suppressed) are reused. Default 5 minutes. */
  finishedCountsEveryMs?: number;
  /** Process metrics (CPU, memory, event loop lag, GC). Default true. */
  processMetrics?: boolean;
}

export const OTHER_DOMAIN = 'other';
export const FINISHED_COUNTS_EVERY_MS = 300_000;
/** receivedAt → final outcome: seconds to days (the queue keeps retrying for days). */
const LATENCY_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 5 * 86_400];
/** One delivery attempt (route, connect, TLS, transaction). */
const ATTEMPT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export type DeliveryOutcome = 'delivered' | 'deferred' | 'bounced' | 'expired' | 'suppressed';

export class Metrics {
  readonly registry = new Registry();
  readonly #o: Required<Omit<MetricsOptions, 'store'>> & { store: MetricsStore };
  readonly #domains = new Set<string>();
  /** The waiting and in-flight states: the light read, at most every queueDepthCacheMs. */
  readonly #depth: Reading<QueueDepth>;
  /** The finished states: a count of every one kept (heavy), at most every finishedCountsEveryMs. */
  readonly #finished: Reading<QueueCounts>;

  readonly #accepted: Counter<'account' | 'listener'>;
  readonly #connectionsRefused: Counter<'listener' | 'reason'>;
  readonly #connectionsEvicted: Counter<'listener'>;
  readonly #apiKeyLookups: Counter<'result'>;
  readonly #apiAuthThrottled: Counter;
  readonly #deliveries: Counter<'account' | 'domain' | 'outcome'>;
  readonly #latency: Histogram<'outcome'>;
  readonly #attemptDuration: Histogram<'outcome'>;
  readonly #webhookDeliveries: Counter<'account' | 'outcome'>;
  readonly #webhookFailures: Counter<'account'>;
  readonly #slowAttempts: Counter<'domain'>;
  /** The scheduler's attempts by lane (delivery.concurrency, delivery.maxSlowAttempts), once watched. */
  #lanes: (() => { fast: number; slow: number }) | null = null;
  /** Destinations the scheduler remembers as slow (delivery.slowMemory), once watched. */
  #slowDestinations: (() => number) | null = null;

  constructor(opts: MetricsOptions) {
    this.#o = {
      store: opts.store, clock: opts.clock ?? systemClock, maxDomainLabels: opts.maxDomainLabels ?? 100,
      queueDepthCacheMs: opts.queueDepthCacheMs ?? 5000, finishedCountsEveryMs: opts.finishedCountsEveryMs ?? FINISHED_COUNTS_EVERY_MS,
      processMetrics: opts.processMetrics ?? true,
    };
    const { store, clock } = this.#o;
    this.#depth = new Reading(() => store.queueDepth(), this.#o.queueDepthCacheMs, clock);
    this.#finished = new Reading(() => store.counts(), this.#o.finishedCountsEveryMs, clock);
    const registers = [this.registry];
    if (this.#o.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.#accepted = new Counter({
      name: 'postlane_messages_accepted_total', help: 'Messages accepted and queued (SMTP or HTTP), by account and listener',
      labelNames: ['account', 'listener'], registers,
    });
    this.#connectionsRefused = new Counter({
      name: 'postlane_connections_refused_total',
      help: 'Connections refused at accept by a connection cap, by listener (http) and reason (total: http.maxConnections, per-ip: http.maxConnectionsPerIp)',
      labelNames: ['listener', 'reason'], registers,
    });
    this.#connectionsEvicted = new Counter({
      name: 'postlane_connections_evicted_total',
      help: 'Idle connections closed at the total connection cap to admit a newcomer, by listener (http)',
      labelNames: ['listener'], registers,
    });
    this.#apiKeyLookups = new Counter({
      name: 'postlane_api_key_lookups_total',
      help: 'API keys looked up in the store (not answered by the key cache), by result (found, not_found)',
      labelNames: ['result'], registers,
    });
    this.#apiAuthThrottled = new Counter({
      name: 'postlane_api_auth_throttled_total',
      help: 'API requests answered 429 too_many_attempts, before any key lookup, by the failed-authentication throttle (http.authFailures)',
      registers,
    });
    this.#deliveries = new Counter({
      name: 'postlane_deliveries_total',
      help: `Recipient delivery outcomes by account, recipient domain (beyond ${this.#o.maxDomainLabels} domains: "${OTHER_DOMAIN}") and outcome (delivered|deferred|bounced|expired|suppressed)`,
      labelNames: ['account', 'domain', 'outcome'], registers,
    });
    this.#latency = new Histogram({
      name: 'postlane_delivery_latency_seconds',
      help: 'Time from acceptance (receivedAt) to the final outcome of a recipient (delivered|bounced|expired|suppressed)',
      labelNames: ['outcome'], buckets: LATENCY_BUCKETS, registers,
    });
    this.#attemptDuration = new Histogram({
      name: 'postlane_delivery_attempt_duration_seconds',
      help: 'Duration of one delivery attempt of a job (routing, connection, TLS and SMTP transaction), by the outcome of its first recipient',
      labelNames: ['outcome'], buckets: ATTEMPT_BUCKETS, registers,
    });
    this.#webhookDeliveries = new Counter({
      name: 'postlane_webhook_deliveries_total', help: 'Webhook POSTs by account and outcome (ok|failed)',
      labelNames: ['account', 'outcome'], registers,
    });
    this.#webhookFailures = new Counter({
      name: 'postlane_webhook_failures_total', help: 'Failed webhook POSTs (non-2xx, network error or timeout), by account',
      labelNames: ['account'], registers,
    });
    this.#slowAttempts = new Counter({
      name: 'postlane_delivery_slow_attempts_total',
      help: `Delivery attempts that ran past delivery.slowAttemptAfter (moved out of delivery.concurrency into the slow lane, or kept their slot when it was full), by recipient domain or shaped destination (beyond ${this.#o.maxDomainLabels}: "${OTHER_DOMAIN}")`,
      labelNames: ['domain'], registers,
    });
    const metrics = this;
    new Gauge({
      name: 'postlane_delivery_attempts_running',
      help: 'Delivery attempts running on this node by lane: fast (counted against delivery.concurrency) and slow (past delivery.slowAttemptAfter, counted against delivery.maxSlowAttempts)',
      labelNames: ['lane'], registers,
      collect() {
        const lanes = metrics.#lanes?.();
        if (lanes) { this.set({ lane: 'fast' }, lanes.fast); this.set({ lane: 'slow' }, lanes.slow); }
      },
    });
    new Gauge({
      name: 'postlane_delivery_slow_destinations',
      help: 'Destinations this node remembers as slow (delivery.slowMemory): their new attempts start in the slow lane, not counted against delivery.concurrency',
      registers,
      collect() {
        const n = metrics.#slowDestinations?.();
        if (n !== undefined) this.set(n);
      },
    });
    const finishedEvery = `${Math.round(this.#o.finishedCountsEveryMs / 1000)} s`;
    new Gauge({
      name: 'postlane_queue_depth',
      help: `Recipients by state: queued, deferred, held (the queue counters) and delivering (in flight), read at most every ${Math.round(this.#o.queueDepthCacheMs / 1000)} s; `
        + `delivered, bounced, expired, suppressed (finished, kept for storage.retainFinished), counted at most every ${finishedEvery}`,
      labelNames: ['state'], registers,
      async collect() {
        // A store that cannot answer leaves the last values: a scrape never fails for it.
        const [depth, counts] = await Promise.all([metrics.#depth.get().catch(() => null), metrics.#finished.get().catch(() => null)]);
        if (depth) for (const [state, n] of Object.entries(depth)) this.set({ state }, n);
        if (counts) for (const state of FINAL_STATES) this.set({ state }, counts[state]);
      },
    });
  }

  get contentType(): string { return this.registry.contentType; }

  /** The text exposition format for a scrape. */
  render(): Promise<string> { return this.registry.metrics(); }

  /** A message was accepted and queued. */
  countAccepted(account: string | null | undefined, listener: string): void {
    this.#accepted.inc({ account: account ?? DEFAULT_ACCOUNT, listener });
  }

  /**
   * The outcomes of one delivery job were recorded (the scheduler's onOutcome observer); the job
   * carries its message's account (read by the claim with the message row).
   * `durationMs`: how long the attempt took.
   */
  observeDeliveries(job: Pick<DeliveryJob, 'domain' | 'receivedAt' | 'account'> & Partial<Pick<DeliveryJob, 'alsoDomains' | 'recipients'>>,
    outcomes: readonly (Pick<RecipientOutcome, 'status'> & Partial<Pick<RecipientOutcome, 'rcptId'>>)[], durationMs?: number): void {
    const domain = this.#domainLabel(job.domain);
    // A job joining several domains (job-parts.ts): each outcome under its own recipient's domain.
    const joined = job.alsoDomains && job.recipients ? new Map(job.recipients.map((r) => [r.id, r.domain ?? job.domain])) : null;
    const now = this.#o.clock.now();
    for (const o of outcomes) {
      const own = joined && o.rcptId !== undefined ? joined.get(o.rcptId) : undefined;
      this.#deliveries.inc({ account: job.account, domain: own === undefined ? domain : this.#domainLabel(own), outcome: o.status });
      if (o.status !== 'deferred') this.#latency.observe({ outcome: o.status }, Math.max(0, now - job.receivedAt) / 1000);
    }
    if (durationMs !== undefined && outcomes.length > 0) this.#attemptDuration.observe({ outcome: outcomes[0]!.status }, durationMs / 1000);
  }

  /** A connection to `listener` refused at accept (lazy-listener.ts): two listeners by two reasons, no address. */
  countRefusedConnection(listener: 'http', reason: 'total' | 'per-ip'): void {
    this.#connectionsRefused.inc({ listener, reason });
  }

  /** An idle connection to `listener` closed at its total cap for a newcomer (lazy-listener.ts). */
  countEvictedConnection(listener: 'http'): void {
    this.#connectionsEvicted.inc({ listener });
  }

  /** An API key looked up in the store (api-key-cache.ts): found or not. */
  countApiKeyLookup(found: boolean): void {
    this.#apiKeyLookups.inc({ result: found ? 'found' : 'not_found' });
  }

  /** An API request refused by the failed-authentication throttle (api-auth-throttle.ts). */
  countApiAuthThrottled(): void {
    this.#apiAuthThrottled.inc();
  }

  /** An attempt to `destination` ran past delivery.slowAttemptAfter (the scheduler's onSlowAttempt). */
  observeSlowAttempt(destination: string): void {
    this.#slowAttempts.inc({ domain: this.#domainLabel(destination) });
  }

  /** Report the scheduler's attempts by lane on each scrape. */
  watchLanes(lanes: () => { fast: number; slow: number }, slowDestinations?: () => number): void {
    this.#lanes = lanes;
    this.#slowDestinations = slowDestinations ?? null;
  }

  observeWebhookAttempt(account: string, ok: boolean): void {
    this.#webhookDeliveries.inc({ account, outcome: ok ? 'ok' : 'failed' });
    if (!ok) this.#webhookFailures.inc({ account });
  }

  #domainLabel(domain: string): string {
    const d = domain.toLowerCase();
    if (this.#domains.has(d)) return d;
    if (this.#domains.size >= this.#o.maxDomainLabels) return OTHER_DOMAIN;
    this.#domains.add(d);
    return d;
  }
}

/** A store reading reused for `maxAgeMs`; an error is not kept (the next scrape reads again). */
class Reading<T> {
  #last: { at: number; value: Promise<T> } | null = null;
  constructor(private readonly read: () => Promise<T>, private readonly maxAgeMs: number, private readonly clock: Clock) {}

  get(): Promise<T> {
    const now = this.clock.now();
    if (this.#last && now - this.#last.at < this.maxAgeMs) return this.#last.value;
    const last = { at: now, value: this.read() };
    this.#last = last;
    last.value.catch(() => { if (this.#last === last) this.#last = null; });
    return last.value;
  }
}
