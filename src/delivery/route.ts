// Owns routing: recipient domain → the ordered list of hosts to try (RFC 5321 §5.1). MX records
// sorted by preference with equal preferences shuffled; no MX → the domain itself (implicit MX);
// null MX (RFC 7505) → permanent failure; or, in smarthost mode, always the configured relay.
// Failures are thrown as LocalFailure (temporary/permanent with an RFC 3463 status). The TLS
// requirement of MX hosts is not decided here but by transport-security.ts; a smarthost's comes
// from its own configuration.
// The recipient domain's DNS is chosen by whoever picks the recipient, so it is not trusted: at
// most MAX_MX_HOSTS MX hosts are looked up, and an address outside delivery.mxAddresses (loopback,
// link-local cloud metadata, …: networks.ts addressScope) is skipped as if absent, logged
// (delivery.address_refused). A domain left with none bounces 5.4.4, as Exim's ignore_target_hosts
// does. The smarthost, configured by the operator, is not checked.
import net from 'node:net';
import type { Config, SmarthostConfig } from '../config/schema.js';
import type { Logger } from '../events/log.js';
import { addressScope } from '../net/networks.js';
import { LocalFailure } from './classify.js';
import { classifyLookupError, type LookupFailure, type MxRecord, type MxResolver } from './resolver.js';
import { smarthostRequirement, type TlsRequirement } from './tls-policy.js';

export interface RouteHost {
  /** MX host name (or smarthost name / IP): used for logs, SNI, certificate checks and the DSN Remote-MTA. */
  host: string;
  /** IPv4 first, then IPv6 (when enabled). */
  addresses: string[];
  port: number;
  /** A smarthost's fixed TLS requirement; null for MX hosts (the destination's policies decide). */
  security: TlsRequirement | null;
  auth: { user: string; pass: string } | null;
}

export interface RouterOptions {
  config: Pick<Config, 'delivery'>;
  resolver: MxResolver;
  /** [0, 1) — injected so tests can fix the order among equal MX preferences. */
  random?: () => number;
  /** Where refused addresses are logged (delivery.address_refused); absent: not logged. */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * MX hosts looked up per route, in preference order: JobRunner tries at most 10 addresses an
 * attempt, so a domain publishing hundreds of MX records costs no more than 10 A/AAAA lookups
 * (and DANE TLSA lookups) an attempt. Postfix: smtp_mx_address_limit 5.
 */
export const MAX_MX_HOSTS = 10;

/** Whether delivery.mxAddresses lets a domain's DNS send deliveries to `address`. */
export function mxAddressAllowed(setting: Config['delivery']['mxAddresses'], address: string): boolean {
  if (setting === 'any') return true;
  const scope = addressScope(address);
  return scope === 'public' || (scope === 'private' && setting === 'private');
}

export class Router {
  readonly #delivery: Config['delivery'];
  readonly #resolver: MxResolver;
  readonly #random: () => number;
  readonly #logger: RouterOptions['logger'];

  constructor(opts: RouterOptions) {
    this.#delivery = opts.config.delivery;
    this.#resolver = opts.resolver;
    this.#random = opts.random ?? Math.random;
    this.#logger = opts.logger;
  }

  /** The hosts to try for `domain`, in order; each has at least one address. */
  async route(domain: string): Promise<RouteHost[]> {
    const smarthost = this.#delivery.smarthost;
    if (smarthost) return [await this.#smarthostRoute(smarthost)];
    const { names: all, implicit } = await this.#mxHostNames(domain);
    const names = all.slice(0, MAX_MX_HOSTS);
    const resolved = await Promise.all(names.map((name) => this.#addresses(name)));
    const hosts: RouteHost[] = [];
    const refused: string[] = [];
    names.forEach((name, i) => {
      const r = resolved[i]!;
      const allowed = this.#allowed(domain, name, r.addresses, refused);
      if (allowed.length > 0) hosts.push(this.#mxHost(name, allowed));
    });
    if (hosts.length > 0) return hosts;
    if (resolved.some((r) => r.failure === 'temporary')) {
      throw new LocalFailure('temporary', '4.4.3', 'DNS lookup of the mail servers failed');
    }
    if (refused.length > 0) {
      throw new LocalFailure('permanent', '5.4.4', `the mail servers of the recipient domain have no address this relay may deliver to (${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ', …' : ''}; delivery.mxAddresses: ${this.#delivery.mxAddresses})`);
    }
    if (implicit) throw new LocalFailure('permanent', '5.1.2', 'the recipient domain has no mail server');
    throw new LocalFailure('permanent', '5.4.4', 'the mail servers of the recipient domain have no address');
  }

  /** MX host names in the order to try; [domain] when it has no MX (implicit MX). */
  async #mxHostNames(domain: string): Promise<{ names: string[]; implicit: boolean }> {
    const found = await lookupMailHosts(this.#resolver, domain);
    switch (found.kind) {
      case 'implicit': return { names: found.names, implicit: true };
      case 'mx': return { names: orderByPreference(found.records, this.#random).map((r) => normalizeHost(r.exchange)), implicit: false };
      case 'null': throw new LocalFailure('permanent', '5.1.10', 'the recipient domain does not accept mail (null MX)');
      case 'nxdomain': throw new LocalFailure('permanent', '5.1.2', 'the recipient domain does not exist', { cause: found.cause });
      case 'temporary': throw new LocalFailure('temporary', '4.4.3', 'DNS lookup of the recipient domain failed', { cause: found.cause });
    }
  }

  /** The addresses delivery.mxAddresses allows; the others are logged and added to `refused` as "host → address". */
  #allowed(domain: string, host: string, addresses: string[], refused: string[]): string[] {
    const setting = this.#delivery.mxAddresses;
    if (setting === 'any') return addresses;
    const allowed: string[] = [];
    for (const address of addresses) {
      if (mxAddressAllowed(setting, address)) { allowed.push(address); continue; }
      refused.push(`${host} → ${address}`);
      this.#logger?.warn({ event: 'delivery.address_refused', domain, host, address, scope: addressScope(address), mxAddresses: setting },
        'a mail server of the recipient domain has an address outside delivery.mxAddresses; skipped');
    }
    return allowed;
  }

  #addresses(host: string): Promise<HostAddresses> {
    return resolveHostAddresses(this.#resolver, host, this.#delivery.ipv6);
  }

  #mxHost(host: string, addresses: string[]): RouteHost {
    return { host, addresses, port: this.#delivery.port, security: null, auth: null };
  }

  async #smarthostRoute(s: SmarthostConfig): Promise<RouteHost> {
    const { addresses } = await this.#addresses(s.host);
    // A smarthost that does not resolve is a local configuration problem: never bounce for it.
    if (addresses.length === 0) throw new LocalFailure('temporary', '4.4.3', 'the smarthost has no address');
    return { host: s.host, addresses, port: s.port, security: smarthostRequirement(s.host, s.tls), auth: s.auth };
  }
}

/**
 * What a domain's MX lookup says about where its mail goes (RFC 5321 §5.1, RFC 7505): MX records
 * (null MX removed), the domain itself when it has none (implicit MX), a null MX, or a failure.
 * The router turns this into hosts or a LocalFailure; src/verify/ reports it. Records are in DNS
 * order: the caller orders them (orderByPreference).
 */
export type MailHostLookup =
  | { kind: 'mx'; records: MxRecord[] }
  | { kind: 'implicit'; names: [string] }
  | { kind: 'null' }
  | { kind: 'nxdomain' | 'temporary'; cause: unknown };

export async function lookupMailHosts(resolver: Pick<MxResolver, 'resolveMx'>, domain: string): Promise<MailHostLookup> {
  let records: MxRecord[];
  try {
    records = await resolver.resolveMx(domain);
  } catch (err) {
    const failure = classifyLookupError(err);
    if (failure === 'nodata') return { kind: 'implicit', names: [domain] };
    return { kind: failure, cause: err };
  }
  if (records.length === 0) return { kind: 'implicit', names: [domain] };
  const real = records.filter((r) => !isNullMx(r));
  return real.length === 0 ? { kind: 'null' } : { kind: 'mx', records: real };
}

export interface HostAddresses { addresses: string[]; failure?: LookupFailure }

/** A host's A (and, with ipv6, AAAA) addresses; `failure` the worst lookup failure (temporary first). */
export async function resolveHostAddresses(resolver: MxResolver, host: string, ipv6: boolean): Promise<HostAddresses> {
  if (net.isIP(host)) return { addresses: [host] };
  const lookups = [resolver.resolve4(host)];
  if (ipv6) lookups.push(resolver.resolve6(host));
  const results = await Promise.allSettled(lookups);
  const addresses = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [classifyLookupError(r.reason)] : []));
  return { addresses: [...new Set(addresses)], failure: failures.find((f) => f === 'temporary') ?? failures[0] };
}

/** An MX exchange as a host name: lower case, no trailing dot. */
export const normalizeHost = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** RFC 7505: a single MX whose exchange is the root ("." — node returns ""). */
const isNullMx = (r: MxRecord) => r.exchange === '' || r.exchange === '.';

/** Ascending preference; records of equal preference in random order (RFC 5321 §5.1). */
export function orderByPreference(records: MxRecord[], random: () => number): MxRecord[] {
  const byPref = new Map<number, MxRecord[]>();
  for (const r of records) byPref.set(r.priority, [...(byPref.get(r.priority) ?? []), r]);
  return [...byPref.keys()].sort((a, b) => a - b).flatMap((p) => shuffle(byPref.get(p)!, random));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
