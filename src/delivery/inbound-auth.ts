// Owns the verification of inbound mail (the MX listener's bounces, replies and feedback reports):
// SPF, DKIM, DMARC and ARC through mailauth, against the configured resolvers. Produces the
// Authentication-Results (and Received-SPF) header block to prepend, and a summary for the logs.
import { Resolver } from 'node:dns/promises';
import type { Config } from '../config/schema.js';

export interface InboundAuthSummary { spf: string; dkim: string[]; dmarc: string; arc: string }
export interface InboundAuthResult { headers: string; summary: InboundAuthSummary }
export type DnsResolveFn = (name: string, rrtype: string) => Promise<unknown>;

/** A mailauth-compatible `resolve(name, rrtype)` using config.dns.servers (or the system's). */
export function createResolveFn(dns: Config['dns']): DnsResolveFn {
  const resolver = new Resolver({ timeout: dns.timeout, tries: 2 });
  if (dns.servers.length > 0) {
    resolver.setServers(dns.servers.map((s) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`)));
  }
  return (name, rrtype) => resolver.resolve(name, rrtype as 'TXT');
}

const resultOf = (r: unknown): string => {
  const status = (r as { status?: { result?: string } } | undefined)?.status?.result;
  return typeof status === 'string' ? status : 'none';
};

export async function verifyInbound(message: Buffer, opts: {
  ip: string; helo: string; sender: string; mta: string; resolve: DnsResolveFn;
}): Promise<InboundAuthResult> {
  // Loaded at the first inbound message, not at start: mailauth's package root (SPF, DMARC, ARC,
  // BIMI and its certificate stack) is half a second of CPU and some MB that most relays, and
  // every CLI command, would otherwise pay for at start.
  const { authenticate } = await import('mailauth');
  const res = await authenticate(message, {
    ip: opts.ip, helo: opts.helo, sender: opts.sender || undefined, mta: opts.mta,
    resolver: opts.resolve as never, disableBimi: true,
  });
  const headers = res.headers.replace(/\r?\n/g, '\r\n');
  return {
    headers: headers.endsWith('\r\n') ? headers : headers + '\r\n',
    summary: {
      spf: resultOf(res.spf),
      dkim: (res.dkim?.results ?? []).map((d) => `${resultOf(d)}${d.signingDomain ? `:${d.signingDomain}` : ''}`),
      dmarc: resultOf(res.dmarc),
      arc: resultOf(res.arc),
    },
  };
}
