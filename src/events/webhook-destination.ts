// Where webhooks may point, and new webhook records. A webhook URL is chosen by a tenant, so the
// relay must not become a proxy into its own network (SSRF): unless the operator sets
// webhooks.allowPrivateDestinations, a webhook may only reach public addresses. The check runs
// twice: on the URL when the webhook is created (a clear 422 / CLI error for literal private IPs
// and localhost), and on every connection, against the addresses DNS actually returned, so a name
// that resolves (or later re-resolves, DNS rebinding) to 127.0.0.1 or 169.254.169.254 is refused.
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import net from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { isPublicAddress } from '../net/networks.js';
import type { EventType, Webhook } from '../queue/platform-store.js';
import { generateWebhookSecret } from './webhook-signature.js';

/** A new enabled webhook with a fresh id and signing secret (the HTTP API and the CLI create them alike). */
export function newWebhook(opts: { account: string; url: string; events: readonly EventType[]; now: number }): Webhook {
  return {
    id: `wh_${randomBytes(8).toString('hex')}`, account: opts.account, url: opts.url, events: [...new Set(opts.events)],
    secret: generateWebhookSecret(), enabled: true, createdAt: opts.now, disabledAt: null, disabledReason: null,
  };
}

/** Why this URL's host can never be a public destination (literal private IP, localhost), else null. */
export function privateDestinationProblem(url: string): string | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is this host`;
  if (net.isIP(host) !== 0 && !isPublicAddress(host)) return `${host} is not a public address`;
  return null;
}

export class DestinationNotAllowedError extends Error {
  readonly code = 'ERR_WEBHOOK_DESTINATION';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** dns.lookup that answers only public addresses (all of them must be: no mixing in a private one). */
export function publicLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const blocked = addresses.find((a) => !isPublicAddress(a.address));
    if (blocked || addresses.length === 0) {
      return callback(Object.assign(new DestinationNotAllowedError(`${hostname} resolves to ${blocked?.address ?? 'nothing'}, not a public address`), { errno: 0 }), []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}

/**
 * A fetch that connects only to public addresses: literal IPs are checked before connecting, names
 * at connection time through the guarded lookup (undici passes `lookup` to net/tls.connect).
 */
export function publicOnlyFetch(): typeof fetch {
  const agent = new Agent({ connect: { lookup: publicLookup as never } });
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    const problem = privateDestinationProblem(url);
    if (problem) throw new DestinationNotAllowedError(`webhook destination refused: ${problem}`);
    return undiciFetch(url, { ...(init as object), dispatcher: agent } as never) as unknown as Response;
  }) as typeof fetch;
}
