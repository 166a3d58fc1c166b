// Owns the TLS outcome counters of TLS reporting (RFC 8460 §4): what an outbound session (or a
// host refused before one) means in the report's terms — the policy (sts with its policy lines,
// tlsa with its records, per the requirement transport-security.ts decided) and the result type
// (success, or the §4.3 failure types) — and counting them cheaply. Deliveries are hot (hundreds
// per second), so record() only increments a counter in memory, keyed by day, domain, policy,
// result, receiving MX/address and reason; flush() (every FLUSH_MS, and on stop) adds the counters
// to the store in one batch, so the store sees one write per distinct key per flush, not one per
// session. Only sessions under an MTA-STS or DANE policy are counted ("no-policy-found" sessions
// are not: most destinations have no policy and none of them would get a report with content
// worth the cost); MTA-STS fetch failures are counted once per failed fetch.
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Logger } from '../events/log.js';
import type { MtaStsPolicy } from '../delivery/mta-sts-policy.js';
import type { TlsRequirement, TlsResult } from '../delivery/tls-policy.js';
import type { TlsOutcomeCount, TlsPolicyType, TlsReportStore } from '../store/tls-report-store.js';

/** RFC 8460 §4.3 result types. */
export const TLSRPT_RESULT_TYPES = [
  'starttls-not-supported', 'certificate-host-mismatch', 'certificate-expired', 'certificate-not-trusted', 'validation-failure',
  'tlsa-invalid', 'dnssec-invalid', 'dane-required', 'sts-policy-fetch-error', 'sts-policy-invalid', 'sts-webpki-invalid',
] as const;
export type TlsrptResultType = (typeof TLSRPT_RESULT_TYPES)[number];

/** A session's outcome in report terms; `reason`: the failure-reason-code ('' for a success). */
export interface TlsrptResult { resultType: 'success' | TlsrptResultType; reason: string }

/** The policy a session was held to, as RFC 8460 §4.4 reports it. */
export interface TlsrptPolicy { type: TlsPolicyType; strings: string[]; mxHost: string[] }

export const DAY_MS = 86_400_000;
export const dayOf = (ms: number): number => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);

/** The policy lines of an MTA-STS policy (RFC 8461 §3.2), as the report's policy-string. */
export function stsPolicy(p: MtaStsPolicy): TlsrptPolicy {
  return {
    type: 'sts',
    strings: ['version: STSv1', `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAge}`],
    mxHost: [...p.mx],
  };
}

/**
 * The policy a session to `host` was held to: DANE (its TLSA records in presentation form), the
 * domain's MTA-STS policy (enforce, or testing: an audited session), or null (not counted).
 */
export function policyOf(req: TlsRequirement, sts: MtaStsPolicy | null, host: string): TlsrptPolicy | null {
  if (req.source === 'dane') {
    return { type: 'tlsa', strings: req.tlsa.map((r) => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`), mxHost: [host] };
  }
  if ((req.source === 'mta-sts' || req.audit) && sts) return stsPolicy(sts);
  return null;
}

/**
 * What a session achieved, in report terms; null when no session got as far as TLS (a refused
 * connection, a timeout) — not a TLS outcome. `hostFailure`: the reason the host was not used.
 */
export function sessionResult(req: TlsRequirement, tls: TlsResult | null, hostFailure: string | null): TlsrptResult | null {
  if (tls) {
    if (tls.version !== null && tls.verified) return { resultType: 'success', reason: '' };
    if (tls.version === null) return { resultType: 'starttls-not-supported', reason: 'STARTTLS not offered' };
    return certificateFailure(req, tls.error ?? 'the certificate is not verified');
  }
  if (hostFailure === null) return null;
  if (/does not offer STARTTLS/.test(hostFailure)) return { resultType: 'starttls-not-supported', reason: 'STARTTLS not offered' };
  if (/failed the TLS handshake/.test(hostFailure)) return { resultType: 'validation-failure', reason: 'TLS handshake failed' };
  return null;
}

function certificateFailure(req: TlsRequirement, error: string): TlsrptResult {
  const code = /\(([A-Z0-9_]+)\)/.exec(error)?.[1] ?? '';
  const reason = code || error.slice(0, 120);
  if (/expired|not yet valid/i.test(error) || code === 'CERT_HAS_EXPIRED') return { resultType: 'certificate-expired', reason };
  if (req.level === 'dane') return { resultType: 'tlsa-invalid', reason };
  if (/not valid for/.test(error)) return { resultType: 'certificate-host-mismatch', reason };
  if (/not trusted/.test(error)) return { resultType: 'certificate-not-trusted', reason };
  return { resultType: 'validation-failure', reason };
}

/** An MTA-STS fetch failure (mta-sts.ts reason) in report terms. */
export function stsFetchResult(reason: string): TlsrptResult {
  if (reason.startsWith('invalid policy')) return { resultType: 'sts-policy-invalid', reason: reason.slice(0, 120) };
  if (/CERT|UNABLE_TO|SELF_SIGNED|ALTNAME/.test(reason)) return { resultType: 'sts-webpki-invalid', reason: reason.slice(0, 120) };
  return { resultType: 'sts-policy-fetch-error', reason: reason.slice(0, 120) };
}

export interface TlsOutcomeRecorderOptions {
  store: Pick<TlsReportStore, 'addTlsOutcomes'>;
  clock: Clock;
  logger: Logger;
  flushMs?: number;
}

/** Counters flushed to the store every 30 s (the report goes out hours after its day ends). */
export const FLUSH_MS = 30_000;
/** Distinct counters kept in memory at most (while the store is unreachable); beyond it new keys are dropped. */
const MAX_KEYS = 100_000;

export class TlsOutcomeRecorder {
  readonly #o: TlsOutcomeRecorderOptions;
  #pending = new Map<string, TlsOutcomeCount>();
  readonly #hashes = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #dropped = 0;

  constructor(o: TlsOutcomeRecorderOptions) { this.#o = o; }

  /** Counts one session (or refusal) of `domain` under `policy`. */
  record(domain: string, policy: TlsrptPolicy, result: TlsrptResult, mx = '', ip = ''): void {
    const day = dayOf(this.#o.clock.now());
    const success = result.resultType === 'success';
    const d = domain.toLowerCase();
    // The hit path (almost every call) only builds this key; the policy JSON and its hash are made once per counter.
    const key = `${day}\u0000${d}\u0000${policy.type}\u0000${policy.strings.join('\n')}\u0000${policy.mxHost.join('\n')}\u0000${result.resultType}`
      + (success ? '' : `\u0000${mx}\u0000${ip}\u0000${result.reason}`);
    const had = this.#pending.get(key);
    if (had) { had.n++; return; }
    if (this.#pending.size >= MAX_KEYS) { this.#dropped++; return; }
    const policyJson = JSON.stringify({ strings: policy.strings, mxHost: policy.mxHost });
    this.#pending.set(key, {
      day, domain: d, policyType: policy.type, policyHash: this.#hash(policyJson), policy: policyJson,
      resultType: result.resultType, mx: success ? '' : mx, ip: success ? '' : ip, reason: success ? '' : result.reason, n: 1,
    });
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => { void this.flush(); }, this.#o.flushMs ?? FLUSH_MS);
    this.#timer.unref();
  }

  /** Stops the timer and flushes what is counted. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  /** Adds the counters to the store; on failure they are kept (merged) for the next flush. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flush());
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    if (this.#dropped > 0) {
      this.#o.logger.warn({ event: 'tlsrpt.counters_dropped', sessions: this.#dropped }, 'TLS report counters dropped: too many kept while the store was unavailable');
      this.#dropped = 0;
    }
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#o.store.addTlsOutcomes([...batch.values()]);
    } catch (err) {
      for (const [key, row] of batch) {
        const now = this.#pending.get(key);
        if (now) now.n += row.n; else this.#pending.set(key, row);
      }
      this.#o.logger.warn({ event: 'tlsrpt.flush_failed', counters: batch.size, err: (err as Error)?.message }, 'could not store TLS report counters; kept for the next flush');
    }
  }

  #hash(policyJson: string): string {
    let h = this.#hashes.get(policyJson);
    if (h === undefined) {
      h = createHash('sha256').update(policyJson).digest('hex');
      if (this.#hashes.size > 10_000) this.#hashes.clear();
      this.#hashes.set(policyJson, h);
    }
    return h;
  }
}
