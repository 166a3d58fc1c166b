// The delivery scheduler: the sole owner of outbound concurrency, in total (delivery.concurrency)
// and per recipient domain (delivery.maxConnectionsPerDestination). It claims due jobs from the
// store, runs them, and wakes on notify(), at the store's next due time, and every pollInterval;
// a finished job wakes it only if the last claim left due work behind or excluded its domain, or
// if its run queued mail (a DSN recorded with its result) or gave the job back.
// Strategy (after Postfix qmgr): claim in rounds of at most one destination's worth, excluding
// saturated domains, so one busy domain cannot take every slot; a claimed job whose domain filled
// up within the round waits here (leased) for the next free slot of its domain. Graceful stop lets
// attempts finish, then aborts them and releases this node's leases.
// Cluster-wide, a relay job also needs a destination slot (destination-slots.ts: leased in the
// store, so the limit holds over every node on one database): a running job or an open connection
// of ours holds one; slots are acquired in one batch per claim round and handed from a finished
// job to a waiting one; a claimed job for which no slot can be had, and none of ours will free,
// is given back to the queue (unclaimJobs) and the destination is not claimed for a while.
// When the store cannot be reached, claiming pauses: `delivery.paused` is logged once, claims are
// retried with a capped backoff (outage-backoff.ts) and nothing else wakes the pump meanwhile;
// the first claim that works logs `delivery.resumed`. Results first: while the runner holds
// outcomes of finished deliveries that the store could not take yet (record-retry.ts), nothing is
// claimed, so a job whose lease expired meanwhile is recorded, never claimed and sent again here.
// Nor is a job that is still running here when a claim returns it again (its lease ran out: a
// claim or a result that a slow disk committed late): the copy is dropped (`delivery.lease_overrun`).
// A long attempt is not one of those: every attempt is cut before its lease ends (attempt-deadline.ts).
// Traffic shaping (issue 11, docs/shaping.md): a relay job whose domain rolls up to a shaped
// provider (provider-directory.ts, by MX) has the destination "<provider>@<egress source>" instead
// of its domain, so slots, connections and sessions are counted per provider over the cluster,
// capped by the provider's maxConnections; before it starts, the shaper (shaper.ts) must admit it
// (rates, account share, suspension). A job it holds back is given back to the queue due when the
// shaper says, without an attempt, and the provider's domains are not claimed until then. Replies
// are shown to the shaper, which suspends or scales the provider down (throttle-actions.ts).
// Slow attempts (slow-lane.ts): an attempt running longer than delivery.slowAttemptAfter stops
// counting against delivery.concurrency and counts against delivery.maxSlowAttempts instead
// (`delivery.slow_attempt` logged), so a destination that holds its sessions open (a silent or
// slow-reading MX, up to the attempt deadline each retry) cannot starve fresh mail; while a
// destination has such attempts, a new one to it starts only while fewer than
// delivery.slowDestinationConnections of its attempts count against concurrency (it is not
// claimed otherwise, and its claimed jobs that cannot start are given back). Such a destination is
// remembered (delivery.slowMemory, per node, bounded, with a ttl): its next attempts start in the
// slow lane, until one ends within slowAttemptAfter.
import { setMaxListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { ConfigError, isQueueUnavailable } from '../errors.js';
import type { Logger } from '../events/log.js';
import type { DeliveryJob, QueueStore } from '../store/store.js';
import { SmtpAttempt } from './attempt.js';
import { ConnectionPool } from './connection-pool.js';
import { DestinationSlots } from './destination-slots.js';
import { LocalDelivery } from './local.js';
import type { InboundReports } from '../events/inbound-reports.js';
import { OutageBackoff, type BackoffLimits } from './outage-backoff.js';
import type { DsnSigner } from '../events/dsn.js';
import { createResolveFn } from './inbound-auth.js';
import { createHttpsPolicyFetcher, type PolicyFetcher } from './mta-sts-fetch.js';
import { MtaStsResolver, type MtaStsDns } from './mta-sts.js';
import { createResolver, type MxResolver } from './resolver.js';
import { mxAddressAllowed, Router } from './route.js';
import { JobRunner, type OutcomeObserver } from './run-job.js';
import { joinByMessage, jobParts } from './job-parts.js';
import { ProviderDirectory } from './provider-directory.js';
import { providerOf } from './providers.js';
import { Shaper, type ThrottleView } from './shaper.js';
import { Egress } from './egress.js';
import { SlowLane, type LaneEntry } from './slow-lane.js';
import { createSecureResolver, type SecureResolver } from './secure-resolver.js';
import { TransportSecurity } from './transport-security.js';
import { stsFetchResult, type TlsOutcomeRecorder } from '../tlsrpt/outcomes.js';

export interface DeliverySchedulerOptions {
  config: Readonly<Config>;
  store: QueueStore;
  logger: Logger;
  clock?: Clock;
  resolver?: MxResolver;
  nodeId: string;
  /** [0, 1): MX shuffling and retry jitter; injected by tests. */
  random?: () => number;
  /** What runs a claimed job; default: the JobRunner (route → attempts → record). */
  runner?: Runner;
  /** Fetches MTA-STS policy files; default: HTTPS per delivery.mtaSts, names resolved by `resolver`. */
  mtaStsFetcher?: PolicyFetcher;
  /** DNSSEC-aware queries for DANE; default: dns-packet to dns.servers. */
  secureResolver?: SecureResolver;
  /** Signs generated DSNs with the relay's own domain (main.ts wires the DKIM signer). */
  signDsn?: DsnSigner;
  /** Observer of each job's recorded outcomes (metrics, webhook wake-up). */
  onOutcome?: OutcomeObserver;
  /** Reads late bounces and complaints among inbound mail (main.ts wires it with the bounce secrets). */
  inboundReports?: InboundReports;
  /** Counts TLS outcomes for TLS reports (RFC 8460; main.ts wires it when tlsReporting.enabled). */
  tlsOutcomes?: TlsOutcomeRecorder;
  /** Picks each job's egress source (egress.ts); default: one over config egress and the store's live state. */
  egress?: Egress;
  /** An attempt to `destination` ran past delivery.slowAttemptAfter (metrics). */
  onSlowAttempt?: (destination: string) => void;
}

/**
 * Runs claimed jobs; `heldOutcomes`: finished jobs whose outcome waits for the store (none if absent).
 * run/recordCrash resolve to true when they left new due work in the store (a DSN queued with the
 * result, the job given back): the scheduler then claims at once whatever the last claim found.
 */
export type Runner = {
  run(job: DeliveryJob, signal: AbortSignal): Promise<boolean | void>;
  recordCrash(job: DeliveryJob, err: unknown): Promise<boolean | void>;
  readonly heldOutcomes?: number;
};

/** Exclusion lists kept (#saturatedDomains): a few, as the same full destinations come and go. */
const EXCLUSIONS_KEPT = 8;
/** After an abort, how long stop() still waits for attempts (a DNS query cannot be cancelled). */
const ABORT_GRACE_MS = 2000;
/** Claims while the store is unreachable: 250 ms, 500 ms, 1 s … every 5 s (resumes at most 5 s after it returns). */
export const PAUSE_BACKOFF: BackoffLimits = { initialMs: 250, maxMs: 5_000 };

export class DeliveryScheduler {
  readonly #o: Required<Pick<DeliverySchedulerOptions, 'config' | 'store' | 'logger' | 'clock' | 'nodeId'>>;
  readonly #runner: Runner;
  readonly #pool: ConnectionPool;
  readonly #slots: DestinationSlots;
  /** Running jobs per destination (a recipient domain, or a shaped provider's "<provider>@<source>"). */
  readonly #perDomain = new Map<string, number>();
  readonly #shaper: Shaper;
  /** Egress sources (egress.ts): the source a shaped job is counted against, and the runner's pick. */
  readonly #egress: Egress;
  readonly #providers: ProviderDirectory;
  /** Shaping applies (shaping.enabled, and no smarthost: everything goes to one host then). */
  readonly #shaping: boolean;
  /** A smarthost takes every relay job: a message's jobs claimed together leave as one (job-parts.ts). */
  readonly #joinJobs: boolean;
  /** The shaped provider and destination of each job admitted here (fixed for the job's life). */
  readonly #shapedOf = new WeakMap<DeliveryJob, { provider: string; source: string; destination: string }>();
  /** Destination → until when the shaper holds it back (its domains are not claimed meanwhile). */
  readonly #heldUntil = new Map<string, { until: number; provider: string }>();
  /** Jobs the shaper held back this round, to give back to the queue with their due time. */
  #throttled: { job: DeliveryJob; until: number }[] = [];
  readonly #running = new Set<Promise<void>>();
  /** messageId + domain of every job running or waiting here: a claim that returns one again is not run twice. */
  readonly #mine = new Set<string>();
  /** Deliveries running now (for heartbeats and status). */
  get inFlight(): number { return this.#running.size; }
  /** Attempts by age (slow-lane.ts): fast ones count against delivery.concurrency, slow ones against maxSlowAttempts. */
  readonly #lanes: SlowLane;
  /** Running attempts in the normal lane (counted against delivery.concurrency) and in the slow lane. */
  get lanes(): { fast: number; slow: number } { return { fast: this.#lanes.fast, slow: this.#lanes.slow }; }
  /** Destinations this node remembers as slow (delivery.slowMemory): their attempts start in the slow lane. */
  get slowDestinations(): number { return this.#lanes.rememberedCount; }
  /** Whether this node remembers `destination` (a recipient domain, or a shaped "<provider>@<source>") as slow. */
  remembersSlow(destination: string): boolean { return this.#lanes.isRemembered(destination); }
  #waiting: DeliveryJob[] = [];
  readonly #abort = new AbortController();
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  #timer: NodeJS.Timeout | null = null;
  #pump: Promise<void> | null = null;
  #again = false;
  /** After a claim that came back short (nothing else due): the domains it excluded; null: claim again on any completion. */
  #drainedExcept: ReadonlySet<string> | null = null;
  readonly #outage: OutageBackoff;

  constructor(opts: DeliverySchedulerOptions) {
    // Every running delivery listens on the one stop signal (connection-pool.ts), as many as the
    // configured concurrency: past Node's default of 10 it printed a MaxListenersExceededWarning
    // to stderr, outside the JSON log, for listeners that are each removed when their call ends.
    setMaxListeners(0, this.#abort.signal);
    const clock = opts.clock ?? systemClock;
    this.#o = { config: opts.config, store: opts.store, logger: opts.logger, clock, nodeId: opts.nodeId };
    this.#outage = new OutageBackoff(PAUSE_BACKOFF, clock);
    const dl = opts.config.delivery;
    this.#lanes = new SlowLane({
      clock, slowAfterMs: dl.slowAttemptAfter, maxSlow: dl.maxSlowAttempts ?? dl.concurrency, perSlowDestination: dl.slowDestinationConnections,
      memory: { destinations: dl.slowMemory.destinations, ttlMs: dl.slowMemory.ttl },
      onSwept: (crossed, moved) => this.#swept(crossed, moved, opts.onSlowAttempt),
      onForgotten: (destination) => opts.logger.info({ event: 'delivery.slow_destination_forgotten', domain: destination },
        'an attempt to a destination remembered as slow ended within delivery.slowAttemptAfter: it is no longer remembered'),
    });
    const resolver = opts.resolver ?? createResolver(opts.config.dns);
    this.#shaper = new Shaper({
      config: opts.config.shaping, clock, logger: opts.logger,
      onSuspended: (s) => void Promise.resolve().then(() => opts.store.recordSuspension(s)).catch((err: unknown) =>
        opts.logger.warn({ event: 'shaping.share_failed', provider: s.provider, reason: (err as Error)?.message }, 'could not share a provider suspension with the other nodes')),
    });
    this.#providers = new ProviderDirectory(resolver, clock, opts.config.shaping.mx);
    this.#shaping = opts.config.shaping.enabled && !opts.config.delivery.smarthost;
    this.#joinJobs = !!opts.config.delivery.smarthost;
    this.#pool = new ConnectionPool({
      config: opts.config, clock, ca: readCaFile(opts.config.delivery.tlsCaFile, 'delivery.tlsCaFile'),
      onSessionClosed: (destination) => this.#releaseIdleSlots(destination),
      maxMessagesOf: (destination) => this.#shaper.messagesPerConnection(providerOfDestination(destination)),
    });
    const d = opts.config.delivery;
    this.#slots = new DestinationSlots({
      store: opts.store, owner: opts.nodeId, limit: (destination) => this.#maxFor(destination), leaseMs: d.leaseTime,
      fullBackoffMs: d.pollInterval, clock, logger: opts.logger,
    });
    this.#egress = opts.egress ?? new Egress({
      config: opts.config, store: opts.store, clock, logger: opts.logger,
      providerOf: (domain) => this.#providers.known(domain) ?? providerOf(domain),
    });
    this.#runner = opts.runner ?? new JobRunner({
      config: opts.config, store: opts.store, logger: opts.logger, clock, nodeId: opts.nodeId, random: opts.random, signDsn: opts.signDsn, tlsOutcomes: opts.tlsOutcomes,
      onOutcome: (job, outcomes, ms) => { this.#observe(job, outcomes); opts.onOutcome?.(job, outcomes, ms); },
      destinationOf: (job) => this.#destinationOf(job),
      router: new Router({ config: opts.config, resolver, random: opts.random, logger: opts.logger }),
      security: createTransportSecurity(opts, resolver, clock),
      attempt: new SmtpAttempt({ pool: this.#pool, store: opts.store }),
      egress: this.#egress,
      local: new LocalDelivery({
        dataDir: opts.config.dataDir, store: opts.store, logger: opts.logger,
        auth: { hostname: opts.config.hostname, resolve: createResolveFn(opts.config.dns) }, reports: opts.inboundReports,
      }),
    });
  }

  start(): void {
    if (this.#state !== 'new') throw new Error('delivery scheduler already started');
    this.#state = 'running';
    this.#o.logger.info({ event: 'delivery.started', node: this.#o.nodeId }, 'delivery started');
    this.notify();
  }

  /** New work was queued (or a slot freed): claim soon. */
  notify(): void {
    if (this.#state !== 'running') return;
    if (this.#outage.paused && this.#timer) return; // paused: only the backoff timer retries
    if (this.#pump) { this.#again = true; return; }
    this.#pump = this.#runPump().finally(() => {
      this.#pump = null;
      if (this.#again) this.notify(); // asked for while the last round was finishing
    });
  }

  /** Stop claiming; let attempts finish for up to timeoutMs, then abort them; release our leases. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.#state !== 'running' && this.#state !== 'new') return;
    this.#state = 'stopping';
    if (this.#timer) clearTimeout(this.#timer);
    await this.#pump;
    if (!(await settlesWithin([...this.#running], timeoutMs))) {
      this.#abort.abort();
      await settlesWithin([...this.#running], ABORT_GRACE_MS);
    }
    for (const j of this.#waiting) this.#forget(j);
    this.#waiting = [];
    this.#lanes.close();
    this.#pool.closeAll();
    await this.#pool.drain(ABORT_GRACE_MS); // our connections are closed before our slots are freed
    await this.#slots.stop();
    const released = await this.#o.store.releaseLeases(this.#o.nodeId).catch((err: unknown) => {
      this.#o.logger.warn({ event: 'delivery.release_failed', node: this.#o.nodeId, reason: (err as Error)?.message },
        'could not release leases; they expire after delivery.leaseTime');
      return 0;
    });
    this.#state = 'stopped';
    this.#o.logger.info({ event: 'delivery.stopped', node: this.#o.nodeId, released }, 'delivery stopped');
  }

  async #runPump(): Promise<void> {
    try {
      do {
        this.#again = false;
        const claimed = await this.#fill();
        await this.#scheduleWake();
        if (claimed) this.#resumed();
      } while (this.#again && this.#state === 'running');
    } catch (err) {
      this.#paused(err);
    }
  }

  /** A claim failed: log once per outage, retry after the backoff delay. */
  #paused(err: unknown): void {
    const { delayMs, began } = this.#outage.failed();
    if (began) {
      const unavailable = isQueueUnavailable(err);
      this.#o.logger[unavailable ? 'warn' : 'error']({ event: 'delivery.paused', node: this.#o.nodeId, unavailable, reason: (err as Error)?.message ?? String(err) },
        'delivery paused: cannot claim work from the queue; retrying with backoff');
    }
    this.#wakeIn(delayMs);
  }

  #resumed(): void {
    const end = this.#outage.succeeded();
    if (end) this.#o.logger.info({ event: 'delivery.resumed', node: this.#o.nodeId, ...end }, 'delivery resumed');
  }

  /**
   * Claim and start jobs while there are free slots and due work; false when claiming was skipped
   * because outcomes are held (recorded first: a finished job finishing its record wakes us).
   */
  async #fill(): Promise<boolean> {
    const d = this.#o.config.delivery;
    if (this.#runner.heldOutcomes) { this.#drainedExcept = null; return false; } // a finished record wakes us
    for (;;) {
      const free = d.concurrency - this.#lanes.fast;
      if (free <= 0 || this.#state !== 'running') return true;
      const limit = Math.min(free, d.maxConnectionsPerDestination);
      await this.#syncSuspensions();
      const excludeDomains = this.#saturatedDomains();
      this.#drainedExcept = null; // until this claim says otherwise (a failed one says nothing)
      const jobs = await this.#o.store.claimDue({
        now: this.#o.clock.now(), limit, leaseMs: d.leaseTime, owner: this.#o.nodeId, excludeDomains,
      });
      if (jobs.length < limit) this.#drainedExcept = new Set(excludeDomains);
      if (this.#state !== 'running') return true; // stopping: these leases are released by stop()
      if (this.#shaping) {
        await this.#providers.learn(jobs.filter((j) => j.route === 'relay').map((j) => j.domain));
        if (this.#state !== 'running') return true; // stopped while looking MX hosts up: released by stop()
      }
      const fresh = jobs.filter((job) => this.#notRunning(job));
      for (const job of this.#joinJobs ? joinByMessage(fresh) : fresh) this.#admit(job);
      const admitted = fresh.length;
      await this.#acquireForWaiting();
      await this.#giveBackThrottled();
      // Copies of our own running jobs do not count: claiming on at once would return them again
      // each time a claim's commit outlasts the lease (a slow disk). Completions and the poll wake us.
      if (admitted < limit) return true;
    }
  }

  /**
   * Domains not to claim for now: full here, or every slot held elsewhere (and none of ours free),
   * or held by the shaper. A full or held provider stands for every domain of it seen here; a list is
   * built once for what it is made of (the excluded destinations, each provider's domain count)
   * and the same frozen array handed out again while that recurs (a full provider frees a slot and
   * fills again all the time), so stores may keep what they derive from it by identity.
   */
  #saturatedDomains(): readonly string[] {
    const full = [...this.#perDomain].filter(([dest, n]) => n >= this.#maxFor(dest)).map(([dest]) => dest);
    for (const dest of this.#lanes.limited(this.#perDomain)) if (!full.includes(dest)) full.push(dest);
    const elsewhere = this.#slots.fullDestinations().filter((d) => (this.#perDomain.get(d) ?? 0) >= this.#slots.held(d));
    const now = this.#o.clock.now();
    for (const [dest, h] of this.#heldUntil) if (h.until <= now) this.#heldUntil.delete(dest);
    const domains = new Set<string>();
    const providers = new Set<string>();
    for (const dest of [...full, ...elsewhere, ...this.#heldUntil.keys()]) {
      const provider = this.#heldUntil.get(dest)?.provider ?? (dest.includes('@') ? providerOfDestination(dest) : null);
      if (provider === null) domains.add(dest); else providers.add(provider);
    }
    const key = exclusionKey(domains, providers, (p) => this.#providers.domainsOf(p).size);
    const cached = this.#excluded.get(key);
    if (cached) return cached;
    const out = new Set(domains);
    for (const provider of providers) for (const domain of this.#providers.domainsOf(provider)) out.add(domain);
    if (this.#excluded.size >= EXCLUSIONS_KEPT) this.#excluded.clear();
    const list = Object.freeze([...out]);
    this.#excluded.set(key, list);
    return list;
  }
  /** Recent exclusion lists by what they were built from (exclusionKey): a provider's fills and frees alternate. */
  readonly #excluded = new Map<string, readonly string[]>();

  /** Connections per destination: a shaped provider's (scaled) cap, else delivery.maxConnectionsPerDestination. */
  #maxFor(destination: string): number {
    const d = this.#o.config.delivery;
    if (!destination.includes('@')) return d.maxConnectionsPerDestination;
    const [provider, source] = splitDestination(destination);
    return this.#shaper.maxConnections(provider, source) ?? d.maxConnectionsPerDestination;
  }

  /** A job's destination: "<provider>@<source>" for a shaped provider (fixed at admission), else its domain. */
  #destinationOf(job: DeliveryJob): string {
    const shaped = this.#shapedOf.get(job);
    if (shaped) return shaped.destination;
    if (!this.#shaping || job.route !== 'relay') return job.domain;
    const provider = this.#providers.known(job.domain);
    if (provider === undefined || !this.#shaper.isShaped(provider)) return job.domain;
    const source = this.#egress.sourceFor(job);
    const destination = `${provider}@${source}`;
    this.#shapedOf.set(job, { provider, source, destination });
    return destination;
  }

  #hasSlot(job: DeliveryJob): boolean {
    const d = this.#o.config.delivery;
    const dest = this.#destinationOf(job);
    const n = this.#perDomain.get(dest) ?? 0;
    return this.#lanes.fast < d.concurrency && n < this.#maxFor(dest) && this.#lanes.admits(dest, n)
      && (job.route === 'local' || n < this.#slots.held(dest));
  }

  /** Start the job if the shaper admits it (always, when not shaped); else hold it back for the queue. */
  #startOrHold(job: DeliveryJob): void {
    const shaped = this.#shapedOf.get(job);
    const admission = shaped ? this.#shaper.admit(shaped.provider, shaped.source, job.account) : { ok: true as const };
    if (admission.ok) { this.#start(job); return; }
    this.#throttled.push({ job, until: admission.until });
    const held = this.#heldUntil.get(shaped!.destination);
    if (!held || held.until < admission.until) this.#heldUntil.set(shaped!.destination, { until: admission.until, provider: shaped!.provider });
  }

  /**
   * Give back to the queue, due when the shaper says and without an attempt, the jobs it held back
   * and the waiting jobs of a destination it holds; their provider's domains are not claimed meanwhile.
   */
  async #giveBackThrottled(): Promise<void> {
    const now = this.#o.clock.now();
    const held = this.#waiting.filter((j) => { const h = this.#heldUntil.get(this.#destinationOf(j)); return h !== undefined && h.until > now; });
    if (held.length > 0) {
      this.#waiting = this.#waiting.filter((j) => !held.includes(j));
      for (const j of held) this.#throttled.push({ job: j, until: this.#heldUntil.get(this.#destinationOf(j))!.until });
    }
    if (this.#throttled.length === 0 || this.#state !== 'running') return;
    const batch = this.#throttled;
    this.#throttled = [];
    const byUntil = new Map<number, DeliveryJob[]>();
    for (const t of batch) byUntil.set(t.until, [...(byUntil.get(t.until) ?? []), t.job]);
    for (const [until, jobs] of byUntil) {
      try {
        await this.#o.store.unclaimJobs(this.#o.nodeId, jobs.flatMap(jobParts), until);
        for (const j of jobs) this.#forget(j);
      } catch (err) {
        this.#waiting.push(...jobs); // still leased to us: the next round tries again
        this.#o.logger.warn({ event: 'delivery.unclaim_failed', count: jobs.length, reason: (err as Error)?.message }, 'could not give back throttled jobs; keeping them for the next round');
      }
    }
  }

  /** Show each shaped job's replies to the shaper (adaptive suspensions and scale-downs). */
  #observe(job: DeliveryJob, outcomes: readonly { response?: string }[]): void {
    const shaped = this.#shapedOf.get(job);
    if (!shaped) return;
    for (const response of new Set(outcomes.map((o) => o.response).filter((r): r is string => !!r))) {
      this.#shaper.observe(shaped.provider, shaped.source, response);
    }
  }

  /** Adopt the suspensions other nodes recorded, at most once a pollInterval (one small read). */
  async #syncSuspensions(): Promise<void> {
    const now = this.#o.clock.now();
    if (!this.#shaping || now - this.#syncedAt < this.#o.config.delivery.pollInterval) return;
    this.#syncedAt = now;
    try {
      this.#shaper.adopt(await this.#o.store.listSuspensions(now));
    } catch (err) {
      // Not a reason to stop claiming (the claim itself tells an outage): our own suspensions still hold.
      this.#o.logger.warn({ event: 'shaping.share_failed', op: 'list', reason: (err as Error)?.message }, 'could not read the other nodes\' provider suspensions');
    }
  }
  #syncedAt = -Infinity;

  /** Throttle state per shaped provider and egress source on this node (queue views, API). */
  throttles(): ThrottleView[] { return this.#shaper.views(); }

  /** False for a claimed copy of a job already ours (not started twice). */
  #notRunning(job: DeliveryJob): boolean {
    // Ours already: its lease ran out while it runs (a claim or a result committed late on a slow
    // disk; not a long attempt, which is cut before: attempt-deadline.ts) and the store handed it out again. The running one records the outcome
    // (the lease still names this node); starting it again would deliver it twice.
    if (!this.#mine.has(jobKey(job))) return true;
    this.#o.logger.warn({ event: 'delivery.lease_overrun', id: job.messageId, domain: job.domain },
      'a job still running here was claimed again (its lease expired); not started twice');
    return false;
  }

  /** Runs or queues a claimed job (one checked by #notRunning, or several such joined). */
  #admit(job: DeliveryJob): void {
    for (const p of jobParts(job)) this.#mine.add(jobKey(p));
    if (this.#hasSlot(job)) this.#startOrHold(job);
    else this.#waiting.push(job);
  }

  /** The job (each of its parts) is no longer running or waiting here. */
  #forget(job: DeliveryJob): void {
    for (const p of jobParts(job)) this.#mine.delete(jobKey(p));
  }

  /**
   * Acquire, in one batch, the destination slots waiting relay jobs need (up to the limit), start
   * what can start, and give back jobs that can get no slot here: none granted, none of ours to free.
   */
  async #acquireForWaiting(): Promise<void> {
    const waiting = new Map<string, number>();
    for (const j of this.#waiting) if (j.route === 'relay') waiting.set(this.#destinationOf(j), (waiting.get(this.#destinationOf(j)) ?? 0) + 1);
    if (waiting.size === 0) return;
    const wants = new Map<string, number>();
    for (const [dest, n] of waiting) {
      const want = Math.min(this.#maxFor(dest), (this.#perDomain.get(dest) ?? 0) + n) - this.#slots.held(dest);
      if (want > 0) wants.set(dest, want);
    }
    await this.#slots.acquire(wants);
    this.#startWaiting();
    // Also given back: jobs of a destination with slow attempts that admits no new one (slow-lane.ts):
    // they would wait leased, their lease running, for as long as the slow attempts last.
    const stranded = this.#waiting.filter((j) => {
      const dest = this.#destinationOf(j);
      const n = this.#perDomain.get(dest) ?? 0;
      return (j.route === 'relay' && n === 0 && this.#slots.held(dest) === 0) || !this.#lanes.admits(dest, n);
    });
    if (stranded.length === 0 || this.#state !== 'running') return;
    this.#waiting = this.#waiting.filter((j) => !stranded.includes(j));
    for (const j of stranded) this.#forget(j);
    this.#drainedExcept = null; // they are due again: a slot freed here may take them
    await this.#o.store.unclaimJobs(this.#o.nodeId, stranded.flatMap(jobParts)).catch((err: unknown) => {
      // Still leased to us: keep them for the next round (e.g. once the store is back) rather than
      // leave them unclaimable until their lease expires.
      this.#waiting.push(...stranded);
      for (const j of stranded) for (const p of jobParts(j)) this.#mine.add(jobKey(p));
      this.#o.logger.warn({ event: 'delivery.unclaim_failed', count: stranded.length, reason: (err as Error)?.message }, 'could not give back jobs; keeping them for the next round');
    });
  }

  /** Free the slots of a domain that neither a running job, a waiting one nor an open connection of ours needs. */
  #releaseIdleSlots(domain: string): void {
    if (this.#state !== 'running' || this.#waiting.some((j) => this.#destinationOf(j) === domain)) return;
    this.#slots.releaseSurplus(domain, (this.#perDomain.get(domain) ?? 0) + this.#pool.unusedSessions(domain));
  }

  #start(job: DeliveryJob): void {
    const dest = this.#destinationOf(job);
    this.#perDomain.set(dest, (this.#perDomain.get(dest) ?? 0) + 1);
    const lane = this.#lanes.begin(dest);
    let queued = false;
    const run: Promise<void> = this.#runJob(job).then((q) => { queued = q; }).finally(() => {
      this.#running.delete(run);
      const promoted = this.#lanes.end(lane); // an overdue attempt took its slow-lane place: a fast slot is free
      this.#forget(job);
      const left = (this.#perDomain.get(dest) ?? 1) - 1;
      if (left > 0) this.#perDomain.set(dest, left); else this.#perDomain.delete(dest);
      this.#startWaiting();
      this.#releaseIdleSlots(dest);
      if (this.#throttled.length > 0) void this.#giveBackThrottled();
      if (queued || promoted || this.#mayFreeDueWork(job)) this.notify();
    });
    this.#running.add(run);
  }

  /**
   * Whether a finished job may let a claim find work: not when the last claim came back short
   * (nothing more was due) and did not exclude this job's domain. Then the freed slot waits for
   * what does bring work: new mail here (notify, or a run that queued a DSN: #start), the next due
   * time or the poll (#scheduleWake).
   * With several nodes, most completions found nothing to claim (another node took it), each empty
   * claim five round trips and a nextDueAt (bench/README.md "Several nodes").
   */
  #mayFreeDueWork(job: DeliveryJob): boolean {
    const drained = this.#drainedExcept;
    return drained === null || drained.has(job.domain) || (job.alsoDomains?.some((d) => drained.has(d)) ?? false);
  }

  /** Start claimed jobs that were waiting for a slot, oldest first. */
  #startWaiting(): void {
    if (this.#state !== 'running') return;
    for (let i = 0; i < this.#waiting.length && this.#lanes.fast < this.#o.config.delivery.concurrency;) {
      if (this.#hasSlot(this.#waiting[i]!)) this.#startOrHold(this.#waiting.splice(i, 1)[0]!);
      else i++;
    }
  }

  /**
   * The lanes' sweep found attempts past delivery.slowAttemptAfter (`crossed`; `moved`: those that
   * went into the slow lane, freeing their fast slots): log each, start waiting jobs and claim
   * (which also gives back waiting jobs of destinations now limited).
   */
  #swept(crossed: readonly LaneEntry[], moved: readonly LaneEntry[], onSlow?: (destination: string) => void): void {
    const now = this.#o.clock.now();
    for (const e of crossed) {
      this.#o.logger.info({
        event: 'delivery.slow_attempt', domain: e.destination, runningMs: now - e.startedAt, lane: e.lane === 'slow' ? 'slow' : 'full',
        fast: this.#lanes.fast, slow: this.#lanes.slow, ofDestination: this.#lanes.slowOf(e.destination),
      }, e.lane === 'slow'
        ? 'a delivery attempt ran past delivery.slowAttemptAfter: it no longer counts against delivery.concurrency'
        : 'a delivery attempt ran past delivery.slowAttemptAfter, but the slow lane (delivery.maxSlowAttempts) is full: it keeps its slot');
      onSlow?.(e.destination);
    }
    if (this.#state !== 'running') return;
    // Fast slots freed (moved): a claim may find work; destinations newly limited: their waiting jobs are given back (#acquireForWaiting).
    this.#drainedExcept = null;
    this.#startWaiting();
    this.notify();
  }

  /** Runs the job; true when it queued mail or gave the job back (claim again at once). */
  async #runJob(job: DeliveryJob): Promise<boolean> {
    const signal = this.#abort.signal;
    try {
      return (await this.#runner.run(job, signal)) === true;
    } catch (err) {
      if (signal.aborted) return false; // stop() releases the lease: due again at once, on restart
      if (isQueueUnavailable(err)) return false; // only when stopping (record-retry.ts): the lease expires and the job is retried
      return (await this.#runner.recordCrash(job, err).catch((e: unknown) => {
        this.#o.logger.error({ event: 'delivery.record_failed', id: job.messageId, err: e }, 'could not record a delivery result; the lease will expire');
        return false;
      })) === true;
    }
  }

  async #scheduleWake(): Promise<void> {
    if (this.#state !== 'running') return;
    const poll = this.#o.config.delivery.pollInterval;
    const next = await this.#o.store.nextDueAt();
    const until = next === null ? poll : next - this.#o.clock.now();
    // A short claim does not prove nothing else is due: groups parked by an open breaker, rows
    // another node was claiming (SKIP LOCKED), a lease that lost a race. Work still due now lets
    // completions claim again, as before the cut, rather than wait for the poll.
    if (until <= 0) this.#drainedExcept = null;
    // Due now but not claimed (slots or domains full, or leased elsewhere): completions and the poll wake us.
    this.#wakeIn(until > 0 ? Math.min(until, poll) : poll);
  }

  #wakeIn(ms: number): void {
    if (this.#state !== 'running') return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => { this.#timer = null; this.notify(); }, ms);
    this.#timer.unref();
  }
}

/**
 * What an exclusion list is built from: the excluded domains, and each excluded provider with its
 * domain count (a provider's known domains only grow, up to the directory's bound, so an unchanged
 * count means an unchanged set). Sorted: the same exclusion gives the same key whatever the order.
 */
function exclusionKey(domains: ReadonlySet<string>, providers: ReadonlySet<string>, sizeOf: (provider: string) => number): string {
  const parts = [...domains].sort().map((d) => `d:${d}`);
  for (const p of [...providers].sort()) parts.push(`p:${p}:${sizeOf(p)}`);
  return parts.join('\u0000');
}

const jobKey = (job: Pick<DeliveryJob, 'messageId' | 'domain'>) => `${job.messageId}\u0000${job.domain}`;

/** "gmail@default" → ['gmail', 'default'] (a domain has no '@'). */
const splitDestination = (destination: string): [string, string] => {
  const at = destination.lastIndexOf('@');
  return [destination.slice(0, at), destination.slice(at + 1)];
};
const providerOfDestination = (destination: string): string => (destination.includes('@') ? splitDestination(destination)[0] : '');

/** DANE and MTA-STS as configured, with their defaults for what was not injected. */
function createTransportSecurity(opts: DeliverySchedulerOptions, resolver: MxResolver, clock: Clock): TransportSecurity {
  const { config, logger } = opts;
  const sts = config.delivery.mtaSts;
  const fetch = opts.mtaStsFetcher ?? createHttpsPolicyFetcher({
    resolver, port: sts.port, ca: readCaFile(sts.caFile, 'delivery.mtaSts.caFile'), timeoutMs: config.delivery.connectTimeout,
    allow: (address) => mxAddressAllowed(config.delivery.mxAddresses, address),
  });
  const txt: MtaStsDns = 'resolveTxt' in resolver ? (resolver as MxResolver & MtaStsDns) : createResolver(config.dns);
  return new TransportSecurity({
    config, logger,
    mtaSts: sts.enabled
      ? new MtaStsResolver({
        dns: txt, fetch, clock, logger, cacheFile: path.join(config.dataDir, 'mta-sts', 'policies.json'),
        onFetchFailed: opts.tlsOutcomes
          ? (domain, reason) => opts.tlsOutcomes!.record(domain, { type: 'sts', strings: [], mxHost: [] }, stsFetchResult(reason))
          : undefined,
      })
      : null,
    dane: config.delivery.dane ? opts.secureResolver ?? createSecureResolver(config.dns) : null,
  });
}

/** A configured PEM bundle, read once at start; a missing file is a configuration error. */
function readCaFile(file: string | null, key: string): string | undefined {
  if (file === null) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid configuration at ${key}: cannot read ${file}: ${(err as Error).message}`, key);
  }
}

/** True if all settle within ms. */
async function settlesWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  const done = Promise.allSettled(promises).then(() => true as const);
  try { return await Promise.race([done, timeout]); } finally { clearTimeout(timer); }
}
