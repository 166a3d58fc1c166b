// Owns the checks of egress sources against the machine and the DNS: that a bind address is an
// address of this machine (a socket is bound to it: EADDRNOTAVAIL means no), and that a source's
// EHLO name matches its address both ways (PTR of the address names the EHLO name, and that name
// resolves back to the address: forward-confirmed reverse DNS, which the big providers expect).
// Used at start (a refused address is a ConfigError; a PTR mismatch is a warning line) and by
// `postlane sources check` (a table and an exit code).
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { Config } from '../config/schema.js';
import { dayStart } from '../config/warmup-schedules.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../events/log.js';
import { formatServer } from './resolver.js';

export interface SourceDns {
  reverse(address: string): Promise<string[]>;
  resolve4(host: string): Promise<string[]>;
  resolve6(host: string): Promise<string[]>;
}

/** node:dns on config.dns (servers empty: the system resolvers). */
export function createSourceDns(dns: Config['dns']): SourceDns {
  const r = new Resolver({ timeout: dns.timeout, tries: 2 });
  if (dns.servers.length > 0) r.setServers(dns.servers.map(formatServer));
  return { reverse: (a) => r.reverse(a), resolve4: (h) => r.resolve4(h), resolve6: (h) => r.resolve6(h) };
}

/** null when a socket can be bound to `address` here; else why not (the error code). */
export async function bindProblem(address: string): Promise<string | null> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port: 0, exclusive: true }, () => resolve());
    });
    return null;
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? 'error');
    return code === 'EADDRNOTAVAIL' ? 'not an address of this machine (EADDRNOTAVAIL)' : `cannot bind to it (${code})`;
  } finally {
    server.close();
  }
}

export interface PtrResult {
  source: string;
  address: string;
  ehlo: string;
  /** Names the PTR lookup returned (lower case, no trailing dot). */
  ptr: string[];
  /** Addresses the EHLO name resolves to. */
  forward: string[];
  ok: boolean;
  /** Why not ok, for a log line or the table. */
  problem: string | null;
}

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');
/** Equal addresses, whatever their spelling (IPv6 "::1" and "0:0:…:1"). */
function sameAddress(a: string, b: string): boolean {
  const family = net.isIPv6(a) ? 'ipv6' : 'ipv4';
  if ((net.isIPv6(b) ? 'ipv6' : 'ipv4') !== family) return false;
  const list = new net.BlockList();
  list.addAddress(a, family);
  return list.check(b, family);
}

/** PTR of the address names the EHLO name, and the EHLO name resolves back to the address. */
export async function checkPtr(dns: SourceDns, s: { name: string; address: string; ehlo: string }): Promise<PtrResult> {
  const out: PtrResult = { source: s.name, address: s.address, ehlo: s.ehlo, ptr: [], forward: [], ok: false, problem: null };
  try {
    out.ptr = (await dns.reverse(s.address)).map(norm);
  } catch (err) {
    out.problem = `no PTR record for ${s.address} (${(err as { code?: string }).code ?? 'error'})`;
    return out;
  }
  if (!out.ptr.includes(norm(s.ehlo))) {
    out.problem = `the PTR of ${s.address} names ${out.ptr.join(', ') || 'nothing'}, not the EHLO name ${s.ehlo}`;
    return out;
  }
  try {
    out.forward = await (net.isIPv6(s.address) ? dns.resolve6(s.ehlo) : dns.resolve4(s.ehlo));
  } catch (err) {
    out.problem = `${s.ehlo} does not resolve (${(err as { code?: string }).code ?? 'error'})`;
    return out;
  }
  if (!out.forward.some((a) => sameAddress(a, s.address))) {
    out.problem = `${s.ehlo} resolves to ${out.forward.join(', ') || 'nothing'}, not back to ${s.address}`;
    return out;
  }
  out.ok = true;
  return out;
}

/**
 * The start-time checks of egress.sources: an address this machine does not have is refused (a
 * ConfigError naming the key); a warmup starting in the future is a warning (nothing goes out
 * through it before then); with egress.checkPtr, each PTR/forward mismatch is a warning line,
 * checked in the background so a slow DNS does not delay the start.
 */
export async function checkSourcesAtStart(config: Pick<Config, 'egress' | 'dns'>, logger: Logger, now: number, dns?: SourceDns): Promise<void> {
  const sources = config.egress.sources;
  for (const [i, s] of sources.entries()) {
    const problem = await bindProblem(s.address);
    if (problem) throw new ConfigError(`invalid configuration at egress.sources[${i}].address: ${s.address} is ${problem.startsWith('not') ? problem : `unusable: ${problem}`}; add it to an interface of this machine or remove the source`, `egress.sources[${i}].address`);
    if (s.warmup && dayStart(s.warmup.start) > now) {
      logger.warn({ event: 'egress.warmup_not_started', source: s.name, start: s.warmup.start }, `egress source ${s.name}: its warmup starts on ${s.warmup.start}; it sends nothing before then`);
    }
  }
  if (!config.egress.checkPtr || sources.length === 0) return;
  const resolver = dns ?? createSourceDns(config.dns);
  void Promise.all(sources.map(async (s) => {
    const r = await checkPtr(resolver, s);
    if (!r.ok) logger.warn({ event: 'egress.ptr_mismatch', source: s.name, address: s.address, ehlo: s.ehlo, ptr: r.ptr, forward: r.forward }, `egress source ${s.name}: ${r.problem}`);
  })).catch(() => undefined);
}
