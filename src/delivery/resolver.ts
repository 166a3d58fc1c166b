// Owns DNS lookups for delivery: the MxResolver interface the router depends on, its
// node:dns implementation (configured servers or the system's), and the mapping of resolver
// errors onto what they mean for a delivery: the name does not exist (permanent), it has no
// records of that type (no data), or the lookup failed (temporary).
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { Config } from '../config/schema.js';

export interface MxRecord { exchange: string; priority: number }

export interface MxResolver {
  resolveMx(domain: string): Promise<MxRecord[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

/** What a failed lookup means: 'nxdomain' the name does not exist, 'nodata' no records of that type. */
export type LookupFailure = 'nxdomain' | 'nodata' | 'temporary';

/** A lookup failed; `failure` says whether waiting can help. */
export class DnsLookupError extends Error {
  constructor(readonly failure: LookupFailure, readonly query: string, readonly rrtype: string, readonly errorCode: string) {
    super(`DNS ${rrtype} lookup for ${query} failed: ${errorCode}`);
    this.name = 'DnsLookupError';
  }
}

/** Resolver error codes (node:dns) and what they mean; anything unlisted is temporary. */
const FAILURE_BY_CODE: Record<string, LookupFailure> = {
  ENOTFOUND: 'nxdomain', // NXDOMAIN
  ENODATA: 'nodata',     // NOERROR with no records of the type asked for
  ESERVFAIL: 'temporary',
  ETIMEOUT: 'temporary',
  ECONNREFUSED: 'temporary',
  EREFUSED: 'temporary',
  ECANCELLED: 'temporary',
};

/** Classifies an error thrown by node:dns (or by an MxResolver) for the router. */
export function classifyLookupError(err: unknown): LookupFailure {
  if (err instanceof DnsLookupError) return err.failure;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? FAILURE_BY_CODE[code] ?? 'temporary' : 'temporary';
}

/** How many times c-ares sends a query before giving up (each try waits `dns.timeout`, growing). */
const DNS_TRIES = 2;

/** "ip:port" or "[v6]:port", the form Resolver#setServers takes. */
export function formatServer(s: { host: string; port: number }): string {
  return net.isIPv6(s.host) ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`;
}

/** TXT and CNAME lookups, for checking a sending domain's published records (src/domains/). */
export interface RecordResolver {
  /** Each record as its character-strings, as node:dns returns them. */
  resolveTxt(name: string): Promise<string[][]>;
  resolveCname(name: string): Promise<string[]>;
}

/** The MxResolver on node:dns/promises, using config.dns (servers empty: the system resolvers). */
export function createResolver(dns: Config['dns']): MxResolver & RecordResolver {
  const resolver = new Resolver({ timeout: dns.timeout, tries: DNS_TRIES });
  if (dns.servers.length > 0) resolver.setServers(dns.servers.map(formatServer));
  const wrap = <T>(rrtype: string, name: string, p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      const code = String((err as { code?: unknown }).code ?? 'EUNKNOWN');
      throw new DnsLookupError(classifyLookupError(err), name, rrtype, code);
    });
  return {
    // Only exchange and priority, on every Node (Node 26 adds type: 'MX' to each record).
    resolveMx: (domain) => wrap('MX', domain, resolver.resolveMx(domain).then((rs) => rs.map(({ exchange, priority }) => ({ exchange, priority })))),
    resolve4: (host) => wrap('A', host, resolver.resolve4(host)),
    resolve6: (host) => wrap('AAAA', host, resolver.resolve6(host)),
    resolveTxt: (name) => wrap('TXT', name, resolver.resolveTxt(name)),
    resolveCname: (name) => wrap('CNAME', name, resolver.resolveCname(name)),
  };
}
