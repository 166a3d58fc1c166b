// Owns the vocabulary of outbound transport security and the operator's part of it: what a
// session to one host must satisfy (TlsRequirement), what a session achieved (TlsResult), the
// ordered delivery.tlsPolicies rules (first match wins, like Postfix smtp_tls_policy_maps) and the
// ranking of levels. transport-security.ts combines these with DANE and MTA-STS per MX host;
// connection-pool.ts enforces a requirement on the wire (tls-check.ts judges the handshake).
import type { Config } from '../config/schema.js';
import type { TlsaRecord } from './dane.js';

/** A level the operator can configure. */
export type ConfiguredTlsLevel = Config['delivery']['tls'];
/**
 * What a session must achieve: 'none' never STARTTLS; 'opportunistic' STARTTLS when offered (a
 * failed handshake falls back to plaintext); 'required' TLS with any certificate; 'verify' TLS
 * with a certificate that validates (CA store or delivery.tlsCaFile) for one of `names`; 'dane'
 * TLS with a certificate matching one of `tlsa` (RFC 7672).
 */
export type TlsLevel = ConfiguredTlsLevel | 'dane';
/** Which policy decided: DANE, the domain's MTA-STS policy, a tlsPolicies rule or a non-default delivery.tls, or nothing (opportunistic). */
export type TlsPolicySource = 'dane' | 'mta-sts' | 'policy' | 'opportunistic';
export type TlsPolicyRule = Config['delivery']['tlsPolicies'][number];

export interface TlsRequirement {
  level: TlsLevel;
  source: TlsPolicySource;
  /** Reference identifiers the certificate must match ('verify', DANE-TA): the MX host name. */
  names: string[];
  /** Usable TLSA records, for 'dane'. */
  tlsa: TlsaRecord[];
  /** TLS from the first byte (a smarthost on port 465) instead of STARTTLS. */
  implicit?: boolean;
  /** MTA-STS testing mode: judge the certificate as 'verify' would and report, but deliver anyway. */
  audit?: boolean;
}

/** The TLS outcome of one session, recorded with each delivery attempt made over it. */
export interface TlsResult {
  /** 'TLSv1.3'…; null when the session stayed in plaintext. */
  version: string | null;
  cipher: string | null;
  /** The certificate was authenticated: a DANE match, or a valid chain for the MX name. */
  verified: boolean;
  policy: TlsPolicySource;
  level: TlsLevel;
  /** Why the certificate was not authenticated (absent when verified or in plaintext). */
  error?: string;
}

const RANK: Record<TlsLevel, number> = { none: 0, opportunistic: 1, required: 2, verify: 3, dane: 4 };

/** True if level `a` demands more than level `b`. */
export const isStricter = (a: TlsLevel, b: TlsLevel): boolean => RANK[a] > RANK[b];

/** True if the level never lets a message go out in plaintext. */
export const requiresTls = (level: TlsLevel): boolean => RANK[level] >= RANK.required;

/** True if the level checks the certificate. */
export const requiresAuthentication = (level: TlsLevel): boolean => RANK[level] >= RANK.verify;

/** The first rule matching `domain`: "example.com" exactly, ".example.com" any subdomain of it. */
export function findTlsPolicy(rules: readonly TlsPolicyRule[], domain: string): TlsPolicyRule | null {
  const d = domain.toLowerCase().replace(/\.$/, '');
  return rules.find((r) => (r.match.startsWith('.') ? d.endsWith(r.match) : d === r.match)) ?? null;
}

/** The operator's requirement for a recipient domain: its first matching rule, else delivery.tls. */
export function configuredRequirement(delivery: Pick<Config['delivery'], 'tls' | 'tlsPolicies'>, domain: string): TlsRequirement {
  const rule = findTlsPolicy(delivery.tlsPolicies, domain);
  const level = rule?.policy ?? delivery.tls;
  return { level, source: rule || level !== 'opportunistic' ? 'policy' : 'opportunistic', names: [], tlsa: [] };
}

/** The requirement of a smarthost, from its configured mode: required/implicit verify its name. */
export function smarthostRequirement(host: string, mode: 'opportunistic' | 'required' | 'implicit'): TlsRequirement {
  if (mode === 'opportunistic') return { level: 'opportunistic', source: 'opportunistic', names: [], tlsa: [] };
  return { level: 'verify', source: 'policy', names: [host], tlsa: [], ...(mode === 'implicit' ? { implicit: true } : {}) };
}

/** Identifies a requirement, so a cached session is reused only for the very same one. */
export function requirementKey(r: TlsRequirement): string {
  const tlsa: string[] = []; // pushed to: map()'s array changes elements kind once this is optimised ("wrong map" at its sort)
  for (const t of r.tlsa) tlsa.push(`${t.usage}${t.selector}${t.matchingType}:${t.data.toString('hex')}`);
  tlsa.sort();
  return JSON.stringify([r.level, r.source, r.names, tlsa, r.implicit ?? false, r.audit ?? false]);
}

/** How a reason names the policy that demanded something. */
export function policyLabel(source: TlsPolicySource): string {
  return source === 'dane' ? 'DANE' : source === 'mta-sts' ? 'MTA-STS policy' : 'TLS policy';
}
