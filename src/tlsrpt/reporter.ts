// Owns sending the daily TLS reports (RFC 8460 §5): from tlsReporting.hour (UTC) on, for each
// policy domain with counters for the previous day, one node claims the (domain, day) report in the
// store (a unique key and a lease: exactly one report per domain and day over every node of a
// shared database), looks up the domain's `_smtp._tls` TXT record and sends the report to each
// rua destination: mailto: by queueing the report mail (DKIM-signed as the relay's hostname when it
// is a sending domain, null reverse-path like a DSN) through the normal store and delivery path,
// so it is kept and retried like any mail; https: by POSTing it (application/tlsrpt+gzip). A
// destination that failed (an https endpoint down, a DNS error) is retried an hour later, by any
// node, up to MAX_ATTEMPTS tries; destinations already served are remembered in the claim and not
// served twice. A node that dies holding a claim leaves it to another once its lease runs out.
// Checks run every CHECK_MS on a timer (unref'd), with the injected clock deciding the day.
// An https: endpoint is chosen by whoever controls the domain's DNS, so, like a webhook URL
// (events/webhook-destination.ts), it may only be a public address unless the operator sets
// tlsReporting.allowPrivateDestinations: a literal private IP is refused before connecting, a name
// at connection time against the addresses DNS returned. At most MAX_RUA destinations are served.
import https from 'node:https';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { resolverLookup } from '../delivery/mta-sts-fetch.js';
import type { MxResolver } from '../delivery/resolver.js';
import type { DsnSigner } from '../events/dsn.js';
import { DestinationNotAllowedError, guardedLookup, privateDestinationProblem, type AddressLookup } from '../events/webhook-destination.js';
import type { Logger } from '../events/log.js';
import { newQueueId } from '../message/ids.js';
import type { QueueStore } from '../store/store.js';
import { writeWholeBody } from '../store/whole-body.js';
import { DAY_MS, dayOf } from './outcomes.js';
import { buildReport, buildReportMail, gzipReport, parseTlsrptRecord, type RuaDestination } from './report.js';

export const CHECK_MS = 10 * 60_000;
/** A claim is its node's for this long; after that (its node died mid-report) another node may take it. */
const LEASE_MS = 10 * 60_000;
const RETRY_MS = 60 * 60_000;
export const MAX_ATTEMPTS = 5;
/** Counters and claims are kept this many days (the CLI shows them), then purged. */
const RETAIN_DAYS = 14;
const POST_TIMEOUT_MS = 30_000;

export interface TlsReporterOptions {
  config: Readonly<Config>;
  store: QueueStore;
  logger: Logger;
  clock: Clock;
  nodeId: string;
  dns: Pick<MxResolver, 'resolve4' | 'resolve6'> & { resolveTxt(name: string): Promise<string[][]> };
  /** Signs report mail as the relay's hostname (main.ts wires the DKIM signer); '' = unsigned. */
  sign?: DsnSigner;
  /** A report mail was queued: wake delivery. */
  onQueued?: () => void;
  /** PEM bundle for https: endpoints (tlsReporting.caFile, read at start). */
  ca?: string;
}

export interface ReportRun { sent: number; skipped: number; retried: number; failed: number }

export class TlsReporter {
  readonly #o: TlsReporterOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<ReportRun> | null = null;

  constructor(o: TlsReporterOptions) { this.#o = o; }

  start(): void {
    if (this.#timer) return;
    const tick = () => { void this.runDue().catch((err: unknown) => this.#o.logger.error({ event: 'tlsrpt.run_failed', err: (err as Error)?.message }, 'TLS reporting run failed')); };
    this.#timer = setInterval(tick, CHECK_MS);
    this.#timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  /** Sends the reports that are due and not claimed elsewhere (one run at a time per node). */
  runDue(): Promise<ReportRun> {
    this.#running ??= this.#runDue().finally(() => { this.#running = null; });
    return this.#running;
  }

  async #runDue(): Promise<ReportRun> {
    const now = this.#o.clock.now();
    const today = dayOf(now);
    const run: ReportRun = { sent: 0, skipped: 0, retried: 0, failed: 0 };
    // Yesterday once its hour has come; the day before catches up retries and a node down at the hour.
    const days = [today - 2 * DAY_MS, ...(now >= today + this.#o.config.tlsReporting.hour * 3_600_000 ? [today - DAY_MS] : [])];
    for (const day of days) {
      const counts = await this.#o.store.readTlsOutcomes(day);
      for (const domain of [...new Set(counts.map((c) => c.domain))]) {
        const claim = await this.#o.store.claimTlsReport({ domain, day, owner: this.#o.nodeId, now: this.#o.clock.now(), leaseMs: LEASE_MS });
        if (!claim) continue;
        const outcome = await this.#report(day, domain, counts.filter((c) => c.domain === domain), claim);
        run[outcome]++;
      }
    }
    await this.#o.store.purgeTlsReports(today - RETAIN_DAYS * DAY_MS);
    return run;
  }

  async #report(day: number, domain: string, counts: Parameters<typeof buildReport>[3], claim: { attempts: number; detail: string }): Promise<keyof ReportRun> {
    const { config, store, logger, nodeId } = this.#o;
    const finish = (state: 'sent' | 'skipped' | 'failed' | 'claimed', detail: string, retryAt?: number) =>
      store.finishTlsReport(domain, day, nodeId, state, detail, retryAt);
    let destinations: RuaDestination[] | null;
    try {
      destinations = parseTlsrptRecord(await this.#o.dns.resolveTxt(`_smtp._tls.${domain}`));
    } catch (err) {
      const e = err as { code?: string; errorCode?: string };
      const code = e.errorCode ?? e.code ?? '';
      if (code === 'ENOTFOUND' || code === 'ENODATA') destinations = null;
      else return this.#retry(day, domain, claim, { done: [] }, `TLSRPT lookup failed (${code || 'error'})`);
    }
    if (!destinations) {
      await finish('skipped', 'no TLSRPT record');
      logger.debug({ event: 'tlsrpt.skipped', domain, day: isoDay(day) }, 'no TLSRPT record: no report');
      return 'skipped';
    }
    const id = { organization: config.tlsReporting.organization ?? config.hostname, contact: config.tlsReporting.contact ?? `postmaster@${config.hostname}`, hostname: config.hostname };
    const report = buildReport(id, day, domain, counts);
    const gz = gzipReport(report);
    const done = new Set(parseDone(claim.detail));
    const errors: string[] = [];
    for (const d of destinations) {
      if (done.has(d.uri)) continue;
      try {
        if (d.kind === 'mailto') await this.#queueMail(d.address, domain, report, gz);
        else await this.#post(d.url, gz);
        done.add(d.uri);
        logger.info({ event: 'tlsrpt.sent', domain, day: isoDay(day), to: d.uri, reportId: report['report-id'] }, 'TLS report sent');
      } catch (err) {
        errors.push(`${d.uri}: ${(err as Error).message}`);
      }
    }
    if (errors.length === 0) {
      await finish('sent', JSON.stringify({ done: [...done] }));
      return 'sent';
    }
    return this.#retry(day, domain, claim, { done: [...done] }, errors.join('; '));
  }

  async #retry(day: number, domain: string, claim: { attempts: number }, state: { done: string[] }, error: string): Promise<keyof ReportRun> {
    const last = claim.attempts >= MAX_ATTEMPTS;
    const detail = JSON.stringify({ ...state, error: error.slice(0, 500) });
    await this.#o.store.finishTlsReport(domain, day, this.#o.nodeId, last ? 'failed' : 'claimed', detail, last ? undefined : this.#o.clock.now() + RETRY_MS);
    this.#o.logger.warn({ event: last ? 'tlsrpt.failed' : 'tlsrpt.deferred', domain, day: isoDay(day), attempt: claim.attempts, reason: error },
      last ? 'TLS report given up' : 'TLS report not sent; retrying in an hour');
    return last ? 'failed' : 'retried';
  }

  /** Queues the report mail like a DSN: null reverse-path, signed as the hostname, kept and retried by delivery. */
  async #queueMail(to: string, domain: string, report: ReturnType<typeof buildReport>, gz: Buffer): Promise<void> {
    const { config, store } = this.#o;
    const now = this.#o.clock.now();
    const messageId = newQueueId(now);
    const from = config.tlsReporting.from ?? `tls-reports@${config.hostname}`;
    const unsigned = buildReportMail({ from, to, hostname: config.hostname, domain, report, gz, messageId, date: now });
    const body = this.#o.sign ? Buffer.concat([Buffer.from(await this.#o.sign(unsigned, messageId)), unsigned]) : unsigned;
    const size = await writeWholeBody(store, messageId, body);
    await store.put({
      id: messageId, mailFrom: '', recipients: [to], size, receivedAt: now,
      origin: { listener: 'local', clientIp: '127.0.0.1', user: null }, isBounce: true, route: 'relay',
    });
    this.#o.onQueued?.();
  }

  /** POSTs the report (§5.4): a 2xx answer is success; no redirects are followed. */
  #post(url: string, gz: Buffer): Promise<void> {
    const open = this.#o.config.tlsReporting.allowPrivateDestinations;
    const problem = open ? null : privateDestinationProblem(url);
    if (problem) return Promise.reject(new Error(`destination refused: ${problem} (see tlsReporting.allowPrivateDestinations)`));
    const lookup = open ? resolverLookup(this.#o.dns) : guardedLookup(addressesOf(this.#o.dns)) as unknown as ReturnType<typeof resolverLookup>;
    return new Promise((resolve, reject) => {
      // The whole exchange, not only each idle gap, is bounded; the answer's body is never read.
      const timer = setTimeout(() => req.destroy(new Error('timed out')), POST_TIMEOUT_MS);
      const req = https.request(url, {
        method: 'POST', agent: false, lookup, timeout: POST_TIMEOUT_MS, ...(this.#o.ca ? { ca: this.#o.ca } : {}),
        headers: { 'content-type': 'application/tlsrpt+gzip', 'content-length': gz.length, 'user-agent': 'Postlane TLS-RPT' },
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(new Error(err instanceof DestinationNotAllowedError ? `destination refused: ${err.message}` : `POST failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
      req.on('response', (res) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        res.on('error', () => undefined);
        req.destroy();
        if (status >= 200 && status < 300) resolve();
        else reject(new Error(`POST answered HTTP ${status}`));
      });
      req.end(gz);
    });
  }
}

/** Every A and AAAA address of a name, through the relay's resolver (the guard checks them all). */
function addressesOf(dns: TlsReporterOptions['dns']): AddressLookup {
  return async (hostname) => {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(hostname), dns.resolve6(hostname)]);
    const out = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (out.length === 0) throw Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' });
    return out;
  };
}

const isoDay = (day: number) => new Date(day).toISOString().slice(0, 10);

function parseDone(detail: string): string[] {
  try {
    const d = JSON.parse(detail) as { done?: unknown };
    return Array.isArray(d.done) ? d.done.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
