// Owns routing: recipient domain → the ordered list of hosts to try (RFC 5321 §5.1). MX records
// sorted by preference with equal preferences shuffled; no MX → the domain itself (implicit MX);
// null MX (RFC 7505) → permanent failure; or, in smarthost mode, always the configured relay.
// Failures are thrown as LocalFailure (temporary/permanent with an RFC 3463 status). The TLS
// requirement of MX hosts is not decided here but by transport-security.ts; a smarthost's comes
// from its own configuration.
import net from 'node:net';
import type { Config, SmarthostConfig } from '../config/schema.js';
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
}

export class Router {
  readonly #delivery: Config['delivery'];
  readonly #resolver: MxResolver;
  readonly #random: () => number;

  constructor(opts: RouterOptions) {
    this.#delivery = opts.config.delivery;
    this.#resolver = opts.resolver;
    this.#random = opts.random ?? Math.random;
  }

  /** The hosts to try for `domain`, in order; each has at least one address. */
  async route(domain: string): Promise<RouteHost[]> {
    const smarthost = this.#delivery.smarthost;
    if (smarthost) return [await this.#smarthostRoute(smarthost)];
    const { names, implicit } = await this.#mxHostNames(domain);
    const resolved = await Promise.all(names.map((name) => this.#addresses(name)));
    const hosts: RouteHost[] = [];
    names.forEach((name, i) => {
      const r = resolved[i]!;
      if (r.addresses.length > 0) hosts.push(this.#mxHost(name, r.addresses));
    });
    if (hosts.length > 0) return hosts;
    if (resolved.some((r) => r.failure === 'temporary')) {
      throw new LocalFailure('temporary', '4.4.3', 'DNS lookup of the mail servers failed');
    }
    if (implicit) throw new LocalFailure('permanent', '5.1.2', 'the recipient domain has no mail server');
    throw new LocalFailure('permanent', '5.4.4', 'the mail servers of the recipient domain have no address');
  }

  /** MX host names in the order to try; [domain] when it has no MX (implicit MX). */
  async #mxHostNames(domain: string): Promise<{ names: string[]; implicit: boolean }> {
    let records: MxRecord[];
    try {
      records = await this.#resolver.resolveMx(domain);
    } catch (err) {
      const failure = classifyLookupError(err);
      if (failure === 'nodata') return { names: [domain], implicit: true };
      if (failure === 'nxdomain') throw new LocalFailure('permanent', '5.1.2', 'the recipient domain does not exist', { cause: err });
      throw new LocalFailure('temporary', '4.4.3', 'DNS lookup of the recipient domain failed', { cause: err });
    }
    if (records.length === 0) return { names: [domain], implicit: true };
    const real = records.filter((r) => !isNullMx(r));
    if (real.length === 0) throw new LocalFailure('permanent', '5.1.10', 'the recipient domain does not accept mail (null MX)');
    const names = orderByPreference(real, this.#random).map((r) => r.exchange.toLowerCase().replace(/\.$/, ''));
    return { names, implicit: false };
  }

  async #addresses(host: string): Promise<{ addresses: string[]; failure?: LookupFailure }> {
    if (net.isIP(host)) return { addresses: [host] };
    const lookups = [this.#resolver.resolve4(host)];
    if (this.#delivery.ipv6) lookups.push(this.#resolver.resolve6(host));
    const results = await Promise.allSettled(lookups);
    const addresses = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [classifyLookupError(r.reason)] : []));
    return { addresses: [...new Set(addresses)], failure: failures.find((f) => f === 'temporary') ?? failures[0] };
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
