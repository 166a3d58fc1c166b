// Owns the steps of one claimed job, in order: route the domain → decide each host's TLS
// requirement (transport-security.ts) → try the hosts in order until one decides → turn findings
// into recipient outcomes (delivered / deferred / bounced / expired) → build the DSN when one is
// due → record everything in one store call (retried while the store is unavailable — unreachable,
// disk full — until recorded: record-retry.ts) → log each outcome (with the TLS result).
// Every relay attempt ends before the job's lease does (attempt-deadline.ts): cut at its deadline,
// its undecided recipients are deferred (4.4.2), so no other node claims a message still in flight.
// The scheduler decides when jobs run; this decides what happens to their recipients.
// DSNs honour each recipient's NOTIFY (RFC 3461, message/dsn-params.ts wantsNotice): FAILURE for
// bounced/expired/suppressed, DELAY for the delay warning (absent NOTIFY: both, as always),
// SUCCESS for "delivered" (local delivery) or "relayed" (the next hop did not advertise DSN; a
// next hop that did carries the request on and reports itself). NEVER: no DSN, the events as ever.
import type { Clock } from '../clock.js';
import { isQueueUnavailable } from '../errors.js';
import type { Config } from '../config/schema.js';
import { createDsn, type DsnRecipient, type DsnSigner } from '../events/dsn.js';
import type { Logger } from '../events/log.js';
import { computeRetryDelayMs } from '../store/retry-schedule.js';
import type { DeliveryJob, GeneratedMessage, QueueStore, RecipientOutcome, RecordResultsOptions } from '../store/store.js';
import { suppressedReason, suppressedResponse } from '../store/suppression-store.js';
import type { AttemptMessage, HostAttempt, SmtpAttempt } from './attempt.js';
import { wantsNotice, type RecipientDsn } from '../message/dsn-params.js';
import { classifyError, describeVerdict, flattenReply, type Verdict } from './classify.js';
import type { SessionTarget } from './connection-pool.js';
import type { LocalDelivery } from './local.js';
import { recordWithRetry } from './record-retry.js';
import { attemptDeadline, AttemptDeadlines, DEADLINE_VERDICT, finalReplyMargin, type AttemptDeadline } from './attempt-deadline.js';
import { jobParts } from './job-parts.js';
import { canReach, type Egress, type EgressSource } from './egress.js';
import type { RouteHost, Router } from './route.js';
import type { TlsResult } from './tls-policy.js';
import { dsnTransport, optionalTlsRequirement, withRequireTls } from './next-hop-needs.js';
import { notInPolicyVerdict, type DomainSecurity, type HostSecurity, type TransportSecurity } from './transport-security.js';
import { policyOf, sessionResult, type TlsOutcomeRecorder } from '../tlsrpt/outcomes.js';

/** At most this many addresses (over all MX hosts) are tried per attempt (Postfix: 5 + 2 sessions). */
const MAX_ADDRESSES_PER_JOB = 10;

/** No recipient was left undecided by the deadline (an attempt that waited for its final reply got it). */
const decided = (findings: ReadonlyMap<string, Finding>): boolean => {
  for (const f of findings.values()) if (f.verdict === DEADLINE_VERDICT) return false;
  return true;
};

/**
 * A recipient on the suppression list: not sent, final. Its DSN says why (5.7.1, like a policy
 * refusal), so an SMTP sender is told even without webhooks; the event is 'suppressed'.
 */
function suppressedDecision(r: DeliveryJob['recipients'][number], s: NonNullable<DeliveryJob['recipients'][number]['suppression']>): Decided {
  const verdict: Verdict = { kind: 'permanent', status: '5.7.1', reason: suppressedReason(s) };
  return {
    outcome: { rcptId: r.id, status: 'suppressed', response: suppressedResponse(s), suppression: { reason: s.reason, scope: s.scope, createdAt: s.createdAt, source: s.source } },
    address: r.address, attempt: r.attempts, finding: { verdict, host: null, tls: null },
  };
}

/** What one attempt found out about one recipient address. */
interface Finding { delivered?: string; verdict?: Verdict; host: string | null; tls: TlsResult | null; nextHopDsn?: boolean; source?: string; remoteIp?: string }

/** Where trying the hosts got: a host's decision on the message, or the last failure. */
type HostsOutcome = { decided: HostAttempt } | { failed: { verdict: Verdict; host: string | null; tls: TlsResult | null; remoteIp?: string } };

type Decided = { outcome: RecipientOutcome; address: string; attempt: number; finding: Finding };

export interface JobRunnerOptions {
  config: Readonly<Config>;
  store: QueueStore;
  logger: Logger;
  clock: Clock;
  nodeId: string;
  router: Router;
  security: TransportSecurity;
  attempt: SmtpAttempt;
  local: LocalDelivery;
  random?: () => number;
  /** Signs the DSNs Postlane generates (with the relay's own domain); absent: unsigned. */
  signDsn?: DsnSigner;
  /** Observer of recorded outcomes (metrics, webhook wake-up); called after the store call succeeded. */
  onOutcome?: OutcomeObserver;
  /** Counts TLS sessions under MTA-STS/DANE policies for TLS reports (RFC 8460); absent: not counted. */
  tlsOutcomes?: TlsOutcomeRecorder;
  /** The scheduler's destination key of a job (a shaped provider's, or the domain): sessions are kept per destination. */
  destinationOf?: (job: DeliveryJob) => string;
  /** Picks each job's egress source (bind address, EHLO name, warmup); absent: the system's address and the hostname. */
  egress?: Egress;
}

/** Told each job's recorded outcomes and how long its attempt took (ms, from the start of run()). */
export type OutcomeObserver = (job: DeliveryJob, outcomes: readonly RecipientOutcome[], durationMs: number) => void;

export class JobRunner {
  constructor(private readonly o: JobRunnerOptions) {
    this.#finalReplyMargin = finalReplyMargin(o.config.delivery.leaseTime);
    this.#deadlines = new AttemptDeadlines(o.clock, AttemptDeadlines.sweepFor(o.config.delivery.leaseTime), (d) => {
      const job = d.subject as DeliveryJob;
      o.logger.info({ event: 'delivery.final_reply_wait', id: job.messageId, domain: job.domain, deadline: d.at, until: d.edge, leaseUntil: job.leaseUntil },
        'delivery attempt at its deadline with the whole message sent: waiting for the reply to the end of data (cut at `until` if none)');
    });
  }

  /** Each relay attempt's deadline, before its lease ends (attempt-deadline.ts). */
  readonly #deadlines: AttemptDeadlines;
  /** How long before its lease's end an attempt waiting for its final reply is cut at the latest (finalReplyEdge). */
  readonly #finalReplyMargin: number;

  /** Outcomes of finished jobs waiting in memory for the store (record-retry.ts); the scheduler claims nothing meanwhile. */
  get heldOutcomes(): number { return this.#held.size; }
  readonly #held = new Set<symbol>();

  /**
   * Delivers and records the job. True when that left new due work in the store: a DSN queued with
   * the result, or the job given back; the scheduler then claims at once (it does not, after a
   * claim that found nothing more due, for a result that queued nothing).
   */
  async run(job: DeliveryJob, signal: AbortSignal): Promise<boolean> {
    this.#started.set(job, this.o.clock.now());
    try { return await this.#run(job, signal); } finally { this.#started.delete(job); }
  }

  /** When run() began for each job in flight (the attempt duration reported to onOutcome). */
  readonly #started = new WeakMap<DeliveryJob, number>();

  async #run(job: DeliveryJob, signal: AbortSignal): Promise<boolean> {
    if (job.route === 'local') {
      const outcomes = await this.o.local.deliver(job);
      return this.#record(job, outcomes, await this.#localSuccessDsn(job, outcomes), { owner: this.o.nodeId }, signal);
    }
    // Suppressed recipients are never sent; the others of the message go on. The arrays built here are
    // pushed to, not made by filter()/map(): a claimed job's recipients arrive holey (postMessage), and
    // filter() and map() return another elements kind once their caller is optimised, on which the
    // optimised code of the next function deoptimised ("wrong map", bench/README.md twenty-third session).
    const sendable: DeliveryJob['recipients'] = [];
    for (const r of job.recipients) if (!r.suppression) sendable.push(r);
    let findings = new Map<string, Finding>();
    if (sendable.length > 0) {
      // The attempt must end before the lease does (attempt-deadline.ts): past it, another node may
      // claim the message and deliver it again. But it gets at least one commandTimeout from now: a
      // lease already (nearly) over when the job starts (a claim a slow disk committed late), or one
      // shorter than a command may take, would otherwise cut every attempt, and given back the job
      // would be claimed again as late, over and over (slow-disk.test.ts: leaseTime 2s, 250 ms writes).
      const d = this.o.config.delivery;
      // One waiting for the reply to its end of data, the whole message sent, waits on until a later
      // edge, still inside the lease: cut then, a message the server took would be sent again (RFC 1047).
      const deadline = Math.max(attemptDeadline(job.leaseUntil, d.leaseTime), this.o.clock.now() + d.commandTimeout);
      const attempt = this.#deadlines.begin(deadline, Math.max(deadline, job.leaseUntil - this.#finalReplyMargin), job); // finalReplyEdge
      try {
        const source = await this.#chooseSource(job); // the store's warmup counters and live state: unavailable → given back
        if (source === 'postponed') return false;
        findings = await this.#deliver({ ...job, recipients: sendable }, signal, source, attempt);
      } catch (err) {
        if (!isQueueUnavailable(err)) throw err;
        return this.#giveBack(job, err, signal);
      } finally {
        this.#deadlines.end(attempt);
      }
      if (attempt.passed && !(attempt.awaitedFinalReply && decided(findings))) {
        this.o.logger.warn({ event: 'delivery.attempt_deadline', id: job.messageId, domain: job.domain, deadline, leaseUntil: job.leaseUntil,
          ...(attempt.awaitedFinalReply ? { awaitedFinalReply: true, until: attempt.edge } : {}) },
        'delivery attempt cut at its deadline, before its lease ends; undecided recipients are deferred');
      }
      if (signal.aborted && ![...findings.values()].some((f) => f.delivered !== undefined || f.verdict?.kind === 'permanent')) {
        throw Object.assign(new Error('delivery aborted'), { code: 'EABORT' }); // nothing decided: the lease is released
      }
    }
    return this.#finish(job, findings, signal);
  }

  /**
   * The message could not be read (the queue store is unreachable) before anything was delivered:
   * not the destination's fault, so no attempt is counted and no retry delay applies. The job is
   * given back (due again as before, claimed once the store is back), retried like a result.
   */
  async #giveBack(job: DeliveryJob, err: unknown, signal: AbortSignal): Promise<true> {
    this.o.logger.warn({ event: 'delivery.unclaimed', id: job.messageId, domain: job.domain, reason: (err as Error).message },
      'queue unavailable: could not read the message; giving the job back without counting an attempt');
    await recordWithRetry(() => this.o.store.unclaimJobs(this.o.nodeId, jobParts(job)).then(() => undefined),
      { clock: this.o.clock, logger: this.o.logger, id: job.messageId, leaseUntil: job.leaseUntil, held: this.#held, signal });
    return true; // due again as before
  }

  /**
   * The job's egress source (egress.ts), or 'postponed' when none may take it now (all paused or
   * draining, warmup caps reached): the job waits with no attempt counted, never a bounce.
   */
  async #chooseSource(job: DeliveryJob): Promise<EgressSource | null | 'postponed'> {
    if (!this.o.egress) return null;
    const choice = await this.o.egress.pick(job);
    if ('source' in choice) return choice.source;
    const { until, reason } = choice.wait;
    await this.o.store.postponeJobs(this.o.nodeId, jobParts(job), until, this.o.clock.now());
    this.o.logger.info({ event: 'delivery.source_wait', id: job.messageId, domain: job.domain, until, reason }, 'no egress source may take the message now; it waits (no attempt counted)');
    return 'postponed';
  }

  /** An attempt that threw unexpectedly: every recipient is deferred (unknown = temporary). */
  async recordCrash(job: DeliveryJob, err: unknown): Promise<boolean> {
    const verdict: Verdict = { kind: 'temporary', status: '4.3.0', reason: 'internal error during delivery' };
    this.o.logger.error({ event: 'delivery.crashed', id: job.messageId, domain: job.domain, err }, 'delivery attempt failed unexpectedly');
    return this.#finish(job, new Map(job.recipients.map((r) => [r.address, { verdict, host: null, tls: null }])));
  }

  /** Route, then try hosts in order until one takes a decision on the message. */
  async #deliver(job: DeliveryJob, signal: AbortSignal, source: EgressSource | null = null, deadline?: AttemptDeadline): Promise<Map<string, Finding>> {
    const addresses = [...new Set(job.recipients.map((r) => r.address))];
    const all = (f: Finding) => new Map(addresses.map((a) => [a, f]));
    let hosts: RouteHost[];
    try {
      hosts = await this.o.router.route(job.domain);
    } catch (err) {
      return all({ verdict: classifyError(err), host: null, tls: null });
    }
    const rcptDsn = new Map<string, NonNullable<DeliveryJob['recipients'][number]['dsn']>>();
    for (const r of job.recipients) if (r.dsn) rcptDsn.set(r.address, r.dsn);
    const dsn = job.dsn || rcptDsn.size ? { dsn: { ...job.dsn, ...(rcptDsn.size ? { recipients: rcptDsn } : {}) } } : {};
    const message: AttemptMessage = { messageId: job.messageId, mailFrom: job.returnPath, size: job.size, recipients: addresses, destination: this.o.destinationOf?.(job) ?? job.domain, ...dsn,
      ...(job.transport ? { transport: job.transport } : {}) };
    const out = await this.#tryHosts(job, message, hosts, signal, source, deadline);
    const used = source ? { source: source.name } : {};
    if ('failed' in out) return all({ ...out.failed, ...(out.failed.host ? used : {}) });
    const a = out.decided;
    const at = { host: a.target.host, remoteIp: a.target.address, tls: a.tls, ...used };
    // Recipients delivered with the same reply (a transaction's DATA answer: usually all of them)
    // share one finding, flattened once; findings are only read from here on.
    const findings = new Map<string, Finding>();
    let delivered: Finding | null = null;
    let reply = '';
    for (const r of a.recipients) {
      if (r.outcome !== 'delivered') { findings.set(r.address, { verdict: r.verdict, ...at }); continue; }
      if (delivered === null || r.response !== reply) {
        reply = r.response;
        delivered = { delivered: flattenReply(reply), nextHopDsn: a.nextHopDsn === true, ...at };
      }
      findings.set(r.address, delivered);
    }
    return findings;
  }

  /** Each host in order (its TLS requirement first), each of its addresses, until one decides. */
  async #tryHosts(job: DeliveryJob, message: AttemptMessage, hosts: RouteHost[], signal: AbortSignal, source: EgressSource | null, deadline?: AttemptDeadline): Promise<HostsOutcome> {
    let failed: Extract<HostsOutcome, { failed: unknown }>['failed'] = { verdict: { kind: 'temporary', status: '4.4.1', reason: 'no mail server could be tried' }, host: null, tls: null };
    const notInPolicy: string[] = [];
    let tried = 0;
    let domain: Promise<DomainSecurity> | null = null;
    for (const h of hosts) {
      if (signal.aborted || deadline?.passed || tried >= MAX_ADDRESSES_PER_JOB) break;
      const sec = await this.#hostSecurity(job, h, () => domain ??= this.o.security.forDomain(job.domain));
      if (!sec.ok) {
        if (sec.notInPolicy) notInPolicy.push(h.host);
        if (sec.tlsrpt) this.o.tlsOutcomes?.record(job.domain, sec.tlsrpt.policy, sec.tlsrpt.result, h.host);
        failed = { verdict: sec.verdict, host: h.host, tls: null };
        this.#logHostFailure(job, h.host, null, sec.verdict);
        continue;
      }
      const reachable = source ? h.addresses.filter((a) => canReach(source, a)) : h.addresses;
      for (const address of reachable.slice(0, MAX_ADDRESSES_PER_JOB - tried)) {
        if (signal.aborted || deadline?.passed) break;
        tried++;
        const target: SessionTarget = { host: h.host, address, port: h.port, security: withRequireTls(sec.requirement, job.transport, h.host), auth: h.auth,
          ...(source && source.origin !== 'implicit' ? { source: { name: source.name, address: source.address, ehlo: source.ehlo } } : {}) };
        const a = await this.o.attempt.run(message, target, signal, deadline);
        if (a.queueUnavailable) throw a.queueUnavailable; // nothing was sent; no other host can do better
        this.#auditTls(job, target, a);
        if (!h.security && domain) this.#countTls(job, target, a, await domain); // TLS-Required: No: no policy applied, nothing to report
        if (!a.hostFailure) return { decided: a };
        failed = { verdict: a.hostFailure, host: h.host, tls: a.tls, remoteIp: address };
        this.#logHostFailure(job, h.host, address, a.hostFailure, a.tls);
      }
    }
    if (notInPolicy.length > 0 && notInPolicy.length === hosts.length) failed = { verdict: notInPolicyVerdict(notInPolicy), host: null, tls: null };
    // Cut at the deadline (between hosts, or in DNS/MTA-STS that a signal cannot cut): that is why, whatever came before.
    if (deadline?.passed) failed = { ...failed, verdict: DEADLINE_VERDICT };
    return { failed };
  }

  /** A smarthost's own requirement; `TLS-Required: No` → opportunistic (no MTA-STS/DANE/policy); else transport-security.ts. */
  async #hostSecurity(job: DeliveryJob, h: RouteHost, domain: () => Promise<DomainSecurity>): Promise<HostSecurity> {
    if (h.security) return { ok: true, requirement: h.security };
    if (job.transport?.tlsOptional) return { ok: true, requirement: optionalTlsRequirement(h.host) };
    return this.o.security.forHost(await domain(), h.host, h.port);
  }

  #logHostFailure(job: DeliveryJob, host: string, address: string | null, v: Verdict, tls: TlsResult | null = null): void {
    this.o.logger.info({ event: 'delivery.host_failed', id: job.messageId, domain: job.domain, host, address, response: describeVerdict(v), tls }, 'mail server unavailable');
  }

  /** The session's TLS outcome, for TLS reports, when a DANE or MTA-STS policy applied. */
  #countTls(job: DeliveryJob, target: SessionTarget, a: HostAttempt, ds: DomainSecurity): void {
    const rec = this.o.tlsOutcomes;
    if (!rec) return;
    const policy = policyOf(target.security, ds.mtaSts, target.host);
    const result = policy && sessionResult(target.security, a.tls, a.hostFailure?.reason ?? null);
    if (policy && result) rec.record(job.domain, policy, result, target.host, target.address);
  }

  /** MTA-STS testing mode: a session that would have failed enforcement is logged, not refused. */
  #auditTls(job: DeliveryJob, target: SessionTarget, a: HostAttempt): void {
    if (!target.security.audit || !a.tls || a.tls.verified) return;
    const violation = a.tls.version === null ? `${target.host} offers no TLS` : a.tls.error ?? 'the certificate is not verified';
    this.o.logger.warn({ event: 'delivery.tls_violation', id: job.messageId, domain: job.domain, host: target.host, policy: 'mta-sts', mode: 'testing', violation, tls: a.tls },
      'MTA-STS (testing): TLS would not satisfy the policy; delivering anyway');
  }

  /** Decides and records every recipient's outcome; true when a DSN was queued with them. */
  async #finish(job: DeliveryJob, findings: Map<string, Finding>, signal?: AbortSignal): Promise<boolean> {
    const now = this.o.clock.now();
    let decided: Decided[] = []; // pushed to (#run says why)
    for (const r of job.recipients) decided.push(this.#decide(job, r, findings.get(r.address), now));
    let generated: GeneratedMessage[] = [];
    let delayNotified = false;
    const dsn = this.#dsnRecipients(job, decided, now);
    if (dsn.length > 0) {
      try {
        generated = [dsnTransport(await createDsn(this.o.store, {
          hostname: this.o.config.hostname, originalId: job.messageId, originalSender: job.mailFrom,
          arrivalDate: job.receivedAt, date: now, recipients: dsn, ...job.dsn,
        }, this.o.signDsn), job)];
        delayNotified = dsn.some((d) => d.action === 'delayed');
      } catch (err) {
        // Without its DSN a bounce would be silent: keep those recipients for a later try instead.
        this.o.logger.error({ event: 'delivery.dsn_failed', id: job.messageId, err }, 'could not write the DSN; bounce postponed');
        decided = decided.map((d) => (d.outcome.status === 'bounced' || d.outcome.status === 'expired' ? this.#postpone(d, now) : d));
      }
    }
    const outcomes: RecipientOutcome[] = [];
    for (const d of decided) outcomes.push(d.outcome);
    const queued = await this.#record(job, outcomes, generated, { owner: this.o.nodeId, delayNotified }, signal);
    for (const d of decided) this.#log(job, d, now);
    return queued;
  }

  /** One store call; while the store is unavailable, kept in memory and retried (record-retry.ts). True when it queued generated mail. */
  async #record(job: DeliveryJob, outcomes: RecipientOutcome[], generated: GeneratedMessage[], opts: RecordResultsOptions, signal?: AbortSignal): Promise<boolean> {
    const durationMs = this.#durationMs(job);
    const withDuration = durationMs === undefined ? opts : { ...opts, durationMs };
    await recordWithRetry(() => this.o.store.recordResults(job.messageId, outcomes, generated, withDuration),
      { clock: this.o.clock, logger: this.o.logger, id: job.messageId, leaseUntil: job.leaseUntil, held: this.#held, signal });
    const now = this.o.clock.now();
    try { this.o.onOutcome?.(job, outcomes, now - (this.#started.get(job) ?? now)); } catch { /* observers never break delivery */ }
    return generated.length > 0;
  }

  /**
   * The attempt's duration (ms since run() began, injected clock), undefined outside run(): given to
   * the store once per job, which writes it for each attempted recipient (suppressed ones were never
   * attempted) — not a copy of each outcome with it.
   */
  #durationMs(job: DeliveryJob): number | undefined {
    const started = this.#started.get(job);
    return started === undefined ? undefined : Math.max(0, this.o.clock.now() - started);
  }

  #decide(job: DeliveryJob, r: DeliveryJob['recipients'][number], found: Finding | undefined, now: number): Decided {
    if (r.suppression) return suppressedDecision(r, r.suppression);
    const finding: Finding = found ?? { verdict: { kind: 'temporary', status: '4.0.0', reason: 'no result for this recipient' }, host: null, tls: null };
    const decided = (outcome: RecipientOutcome): Decided => ({ outcome, address: r.address, attempt: r.attempts + 1, finding });
    if (finding.delivered !== undefined) { // the usual outcome: one object, no spreads (the recipients of a job share the finding)
      const o: RecipientOutcome = { rcptId: r.id, status: 'delivered', response: finding.delivered };
      if (finding.host) o.host = finding.host;
      if (finding.tls) o.tls = finding.tls;
      if (finding.source) o.source = finding.source;
      if (finding.remoteIp) o.remoteIp = finding.remoteIp;
      return decided(o);
    }
    const base = { rcptId: r.id, ...(finding.host ? { host: finding.host } : {}), ...(finding.tls ? { tls: finding.tls } : {}), ...(finding.source ? { source: finding.source } : {}),
      ...(finding.remoteIp ? { remoteIp: finding.remoteIp } : {}) };
    const v = finding.verdict!;
    const response = describeVerdict(v);
    if (v.kind === 'permanent') return decided({ ...base, status: 'bounced', response });
    const d = this.o.config.delivery;
    // Time held by a circuit breaker does not count: a paused campaign does not expire while it waits for an operator.
    const giveUpAt = job.receivedAt + d.maxQueueTime + (job.heldMs ?? 0);
    if (now >= giveUpAt) return decided({ ...base, status: 'expired', response });
    const delay = computeRetryDelayMs(d.retrySchedule, r.attempts + 1, this.o.random);
    return decided({ ...base, status: 'deferred', response, nextAttemptAt: Math.min(now + delay, giveUpAt) });
  }

  #postpone(d: Decided, now: number): Decided {
    const nextAttemptAt = now + this.o.config.delivery.retrySchedule.initial;
    const { rcptId, response, host, tls, source, remoteIp } = d.outcome;
    const where = { ...(host ? { host } : {}), ...(tls ? { tls } : {}), ...(source ? { source } : {}), ...(remoteIp ? { remoteIp } : {}) };
    return { ...d, outcome: { rcptId, status: 'deferred', response, nextAttemptAt, ...where } };
  }

  /**
   * "delivered" DSNs of a local delivery for the recipients that asked NOTIFY=SUCCESS (none for a
   * bounce or the null sender). A DSN that cannot be written is logged: the delivery stands.
   */
  async #localSuccessDsn(job: DeliveryJob, outcomes: RecipientOutcome[]): Promise<GeneratedMessage[]> {
    if (job.isBounce || job.mailFrom === '') return [];
    const now = this.o.clock.now();
    const delivered = new Set(outcomes.filter((o) => o.status === 'delivered').map((o) => o.rcptId));
    const dsn = job.recipients.filter((r) => delivered.has(r.id) && wantsNotice(r.dsn?.notify, 'SUCCESS')).map((r): DsnRecipient => ({
      address: r.address, action: 'delivered', status: '2.0.0', reason: 'delivered to the mailbox', lastAttemptAt: now, ...originalRecipient(r.dsn),
    }));
    if (dsn.length === 0) return [];
    try {
      return [await createDsn(this.o.store, {
        hostname: this.o.config.hostname, originalId: job.messageId, originalSender: job.mailFrom,
        arrivalDate: job.receivedAt, date: now, recipients: dsn, ...job.dsn,
      }, this.o.signDsn)];
    } catch (err) {
      this.o.logger.error({ event: 'delivery.dsn_failed', id: job.messageId, err }, 'could not write the success DSN');
      return [];
    }
  }

  /**
   * Recipients to report, each as its NOTIFY asks: failed ones (FAILURE), delayed ones once past
   * delayWarning (DELAY), delivered ones that asked SUCCESS and whose next hop does not speak DSN
   * ("relayed"). Never for a bounce or the null sender.
   */
  #dsnRecipients(job: DeliveryJob, decided: Decided[], now: number): DsnRecipient[] {
    if (job.isBounce || job.mailFrom === '') return [];
    const d = this.o.config.delivery;
    const warnDelay = d.delayWarning !== false && !job.delayNotified && now - job.receivedAt >= d.delayWarning;
    const asked = new Map(job.recipients.map((r) => [r.id, r.dsn]));
    return decided.flatMap((x): DsnRecipient[] => {
      const s = x.outcome.status;
      const own = asked.get(x.outcome.rcptId);
      if (s === 'delivered') {
        if (x.finding.nextHopDsn !== false || !wantsNotice(own?.notify, 'SUCCESS')) return [];
        return [{
          address: x.address, action: 'relayed', status: '2.0.0', reason: 'relayed to a server without delivery notifications',
          ...(x.finding.host ? { remoteMta: x.finding.host } : {}), ...(x.finding.delivered ? { diagnostic: x.finding.delivered } : {}),
          lastAttemptAt: now, ...originalRecipient(own),
        }];
      }
      const failed = s === 'bounced' || s === 'expired' || s === 'suppressed';
      if (!(failed && wantsNotice(own?.notify, 'FAILURE')) && !(s === 'deferred' && warnDelay && wantsNotice(own?.notify, 'DELAY'))) return [];
      const v = x.finding.verdict!;
      return [{
        ...originalRecipient(own),
        address: x.address,
        action: s === 'deferred' ? 'delayed' : 'failed',
        status: v.status,
        reason: s === 'expired' ? `delivery gave up after the maximum queue time; last error: ${v.reason}` : v.reason,
        ...(x.finding.host && v.reply ? { remoteMta: x.finding.host } : {}),
        ...(v.reply ? { diagnostic: v.reply } : {}),
        lastAttemptAt: now,
        ...(s === 'deferred' ? { willRetryUntil: job.receivedAt + d.maxQueueTime + (job.heldMs ?? 0) } : {}),
      }];
    });
  }

  #log(job: DeliveryJob, d: Decided, now: number): void {
    const o = d.outcome;
    if (o.status === 'delivered' && !this.o.logger.isLevelEnabled('info')) return; // not built when not logged (warn and above: the usual level)
    const entry = {
      event: `delivery.${o.status}`, id: job.messageId, rcpt: d.address, host: d.finding.host, ip: d.finding.remoteIp ?? null, source: d.finding.source ?? null, response: o.response,
      tls: d.finding.tls, attempt: d.attempt, delayMs: now - job.receivedAt,
      ...(o.status === 'deferred' ? { nextAttemptAt: o.nextAttemptAt } : {}),
    };
    if (o.status === 'delivered') this.o.logger.info(entry, 'delivered');
    else this.o.logger.warn(entry, o.status);
  }
}

/** The DsnRecipient field for a recipient's ORCPT, when it gave one. */
const originalRecipient = (dsn: RecipientDsn | undefined): Pick<DsnRecipient, 'originalRecipient'> =>
  (dsn?.orcpt ? { originalRecipient: dsn.orcpt } : {});
