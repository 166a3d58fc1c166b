// Owns the decision of what TLS each MX host of a destination must achieve, combining, in order:
//   1. the operator: the first delivery.tlsPolicies rule matching the recipient domain, else
//      delivery.tls. Level 'none' ends here (no TLS; DANE and MTA-STS are not consulted). Any
//      other level is a floor that what follows can raise but never lower.
//   2. DANE (RFC 7672): DNSSEC-validated TLSA records of the MX host → the certificate must match
//      them ('dane'); validated but all unusable → TLS required, unauthenticated; a failed lookup
//      for a signed host → the host is not used. DANE takes precedence over MTA-STS (RFC 8461 §2).
//   3. MTA-STS (RFC 8461) of the recipient domain: enforce → only MX hosts the policy lists, with
//      a certificate valid for the MX name ('verify'); testing → delivery as in 1, with violations
//      logged (the certificate is judged, the host listed or not). mode none → no policy.
// Smarthost routes carry their own requirement and never come here.
import net from 'node:net';
import type { Config } from '../config/schema.js';
import type { Logger } from '../events/log.js';
import type { Verdict } from './classify.js';
import { isUsableTlsa, lookupTlsa, type DaneLookup, type TlsaRecord } from './dane.js';
import { isMxInPolicy, type MtaStsPolicy } from './mta-sts-policy.js';
import type { MtaStsResolver } from './mta-sts.js';
import type { SecureResolver } from './secure-resolver.js';
import { configuredRequirement, isStricter, type TlsLevel, type TlsRequirement } from './tls-policy.js';
import { stsPolicy, type TlsrptPolicy, type TlsrptResult } from '../tlsrpt/outcomes.js';

export interface TransportSecurityOptions {
  config: Pick<Config, 'delivery'>;
  logger: Logger;
  /** null: MTA-STS off (delivery.mtaSts.enabled false). */
  mtaSts: Pick<MtaStsResolver, 'policyFor'> | null;
  /** null: DANE off (delivery.dane false). */
  dane: SecureResolver | null;
}

/** What holds for a whole destination: the operator's requirement and its MTA-STS policy (enforce/testing). */
export interface DomainSecurity {
  domain: string;
  configured: TlsRequirement;
  mtaSts: MtaStsPolicy | null;
}

export type HostSecurity =
  | { ok: true; requirement: TlsRequirement }
  /**
   * Do not use this host; `notInPolicy`: refused because MTA-STS (enforce) does not list it;
   * `tlsrpt`: the refusal as a TLS report counts it (tlsrpt/outcomes.ts).
   */
  | { ok: false; verdict: Verdict; notInPolicy: boolean; tlsrpt?: { policy: TlsrptPolicy; result: TlsrptResult } };

const refuse = (reason: string, notInPolicy = false, tlsrpt?: { policy: TlsrptPolicy; result: TlsrptResult }): HostSecurity =>
  ({ ok: false, verdict: { kind: 'temporary', status: '4.7.5', reason }, notInPolicy, ...(tlsrpt ? { tlsrpt } : {}) });

const atLeast = (level: TlsLevel, floor: TlsLevel): TlsLevel => (isStricter(floor, level) ? floor : level);

export class TransportSecurity {
  constructor(private readonly o: TransportSecurityOptions) {}

  async forDomain(domain: string): Promise<DomainSecurity> {
    const configured = configuredRequirement(this.o.config.delivery, domain);
    if (configured.level === 'none' || !this.o.mtaSts) return { domain, configured, mtaSts: null };
    let policy: MtaStsPolicy | null = null;
    try {
      policy = await this.o.mtaSts.policyFor(domain);
    } catch (err) {
      this.o.logger.warn({ event: 'mta_sts.lookup_failed', domain, err }, 'MTA-STS policy lookup failed');
    }
    return { domain, configured, mtaSts: policy && policy.mode !== 'none' ? policy : null };
  }

  /** The requirement for one MX host of the destination, or why it must not be used. */
  async forHost(ds: DomainSecurity, host: string, port: number): Promise<HostSecurity> {
    const floor: TlsRequirement = { ...ds.configured, names: [host] };
    if (floor.level === 'none') return { ok: true, requirement: floor };
    const dane: DaneLookup = this.o.dane && !net.isIP(host) ? await lookupTlsa(this.o.dane, host, port) : { status: 'none' };
    if (dane.status === 'failed') {
      return refuse(`DANE: ${dane.reason}`, false, { policy: { type: 'tlsa', strings: [], mxHost: [host] }, result: { resultType: 'dnssec-invalid', reason: dane.reason } });
    }
    if (dane.status === 'secure') return { ok: true, requirement: daneRequirement(dane.records, floor, host, ds.domain) };
    const sts = ds.mtaSts;
    if (!sts) return { ok: true, requirement: floor };
    const listed = isMxInPolicy(host, sts);
    if (sts.mode === 'enforce') {
      if (!listed) {
        return refuse(`MTA-STS policy: ${host} not in policy`, true, { policy: stsPolicy(sts), result: { resultType: 'validation-failure', reason: 'mx-not-in-policy' } });
      }
      return { ok: true, requirement: { level: atLeast('verify', floor.level), source: 'mta-sts', names: [host], tlsa: [] } };
    }
    if (!listed) {
      this.o.logger.warn({ event: 'delivery.tls_violation', domain: ds.domain, host, policy: 'mta-sts', mode: 'testing', violation: `${host} not in policy` },
        'MTA-STS (testing): MX host not in policy; delivering anyway');
    }
    return { ok: true, requirement: { ...floor, audit: true } };
  }
}

/** RFC 7672 §2.2: usable records → authenticate against them; none usable → TLS, unauthenticated. */
function daneRequirement(records: TlsaRecord[], floor: TlsRequirement, host: string, domain: string): TlsRequirement {
  const usable = records.filter(isUsableTlsa);
  if (usable.length > 0) return { level: 'dane', source: 'dane', names: [host, domain], tlsa: usable };
  return { level: atLeast('required', floor.level), source: 'dane', names: [host], tlsa: [] };
}

/** The verdict when MTA-STS refused every MX host of a destination. */
export function notInPolicyVerdict(hosts: string[]): Verdict {
  return { kind: 'temporary', status: '4.7.5', reason: `MTA-STS policy: ${hosts.join(', ')} not in policy` };
}
