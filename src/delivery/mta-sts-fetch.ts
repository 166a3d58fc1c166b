// Owns fetching an MTA-STS policy file over HTTPS (RFC 8461 §3.3): GET
// https://mta-sts.<domain>/.well-known/mta-sts.txt with a certificate valid for that name, the
// host name resolved through the delivery resolver (so dns.servers apply), no redirects, only
// 200 with text/plain, at most 64 KiB, within a deadline. Port and CA bundle come from
// delivery.mtaSts (tests and private deployments change them). The policy host is named by the
// recipient domain's DNS: only addresses delivery.mxAddresses allows are connected to (`allow`).
import type { LookupFunction } from 'node:net';
import https from 'node:https';
import { MAX_POLICY_BYTES } from './mta-sts-policy.js';
import type { MxResolver } from './resolver.js';

/** Fetches the policy text of a domain; rejects with a short reason. */
export type PolicyFetcher = (domain: string) => Promise<string>;

export interface HttpsFetcherOptions {
  resolver: Pick<MxResolver, 'resolve4' | 'resolve6'>;
  port: number;
  /** PEM bundle replacing the Node CA store; undefined: the Node CA store. */
  ca?: string;
  timeoutMs: number;
  /** Which resolved addresses may be connected to (delivery.mxAddresses); absent: any. */
  allow?: (address: string) => boolean;
}

export function createHttpsPolicyFetcher(opts: HttpsFetcherOptions): PolicyFetcher {
  const lookup = resolverLookup(opts.resolver, opts.allow);
  return (domain) => {
    const host = `mta-sts.${domain}`;
    return new Promise<string>((resolve, reject) => {
      const req = https.request({
        host, port: opts.port, path: '/.well-known/mta-sts.txt', method: 'GET', servername: host,
        lookup, ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: true, agent: false,
        headers: { 'user-agent': 'Postlane MTA-STS', accept: 'text/plain' },
      });
      let settled = false;
      const settle = (err: Error | null, text?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) { req.destroy(); reject(err); } else resolve(text!);
      };
      const fail = (reason: string) => settle(new Error(reason));
      const timer = setTimeout(() => fail('policy fetch timed out'), opts.timeoutMs);
      req.on('error', (err) => fail(`policy fetch failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.on('response', (res) => {
        const type = String(res.headers['content-type'] ?? '');
        if (res.statusCode !== 200) return fail(`policy server answered HTTP ${res.statusCode}`);
        if (!/^text\/plain\s*(;|$)/i.test(type)) return fail(`policy served as "${type.slice(0, 40)}", not text/plain`);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_POLICY_BYTES) fail('policy file larger than 64 KiB');
          else chunks.push(c);
        });
        res.on('error', (err) => fail(`policy fetch failed: ${err.message}`));
        res.on('end', () => settle(null, Buffer.concat(chunks).toString('utf8')));
      });
      req.end();
    });
  };
}

/** A net lookup function answering from the delivery resolver (A first, then AAAA); only the addresses `allow` accepts, when given. */
export function resolverLookup(resolver: HttpsFetcherOptions['resolver'], allow?: (address: string) => boolean): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number }, callback: (...args: unknown[]) => void) => {
    const wanted = options.family === 6 ? [6] : options.family === 4 ? [4] : [4, 6];
    Promise.allSettled(wanted.map((f) => (f === 4 ? resolver.resolve4(hostname) : resolver.resolve6(hostname))))
      .then((results) => {
        const found = results.flatMap((r, i) => (r.status === 'fulfilled' ? r.value.map((address) => ({ address, family: wanted[i]! })) : []));
        const addresses = allow ? found.filter((a) => allow(a.address)) : found;
        if (addresses.length === 0 && found.length > 0) {
          return callback(new Error(`${hostname} has no address delivery.mxAddresses allows (${found[0]!.address})`));
        }
        if (addresses.length === 0) {
          return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }));
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      });
  }) as LookupFunction;
}
