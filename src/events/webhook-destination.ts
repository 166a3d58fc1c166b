// Where webhooks may point, and new webhook records. A webhook URL is chosen by a tenant, so the
// relay must not become a proxy into its own network (SSRF): unless the operator sets
// webhooks.allowPrivateDestinations, a webhook may only reach public addresses. The check runs
// twice: on the URL when the webhook is created (a clear 422 / CLI error for literal private IPs
// and localhost), and on every connection, against the addresses DNS actually returned, so a name
// that resolves (or later re-resolves, DNS rebinding) to 127.0.0.1 or 169.254.169.254 is refused.
// Names are resolved through the configured DNS servers (config dns.servers) when there are any,
// like every other lookup of the relay, else through the system's resolver.
import { randomBytes } from 'node:crypto';
import dns from 'node:dns';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import type { Agent } from 'undici';
import { isPublicAddress } from '../net/networks.js';
import type { EventType, Webhook } from '../store/platform-store.js';
import { generateWebhookSecret } from './webhook-signature.js';

/** A new enabled webhook with a fresh id and signing secret (the HTTP API and the CLI create them alike). */
export function newWebhook(opts: { account: string; url: string; events: readonly EventType[]; now: number }): Webhook {
  return {
    id: `wh_${randomBytes(8).toString('hex')}`, account: opts.account, url: opts.url, events: [...new Set(opts.events)],
    secret: generateWebhookSecret(), enabled: true, createdAt: opts.now, disabledAt: null, disabledReason: null,
  };
}

/**
 * Why a webhook URL can never be used as given, else null: fetch refuses a URL with credentials
 * ("user:pass@"), quoting it whole in its error, which was stored as the attempt's error, logged and
 * answered by GET /v1/webhooks/:id/attempts (secret31). Not echoed here.
 */
export function webhookUrlProblem(url: string): string | null {
  const u = new URL(url);
  return u.username || u.password
    ? 'a webhook URL cannot carry a user name or password; check the Postlane-Signature header, or put a token in the path or query'
    : null;
}

/**
 * A webhook URL as the API shows it: the password of its userinfo and the values of query
 * parameters named like credentials (token, secret, key, sig, auth, pass…) hidden. GET /v1/webhooks
 * needs only the read scope, and such a URL is how many receivers authenticate the relay (secret31).
 */
export function shownWebhookUrl(url: string): string {
  let u: URL;
  try { u = new URL(url); } catch { return '[invalid url]'; }
  const names = [...u.searchParams.keys()].filter((n) => /pass|secret|token|key|sig|auth|cred/i.test(n));
  if (!u.password && names.length === 0) return url; // as it was given
  if (u.password) u.password = 'redacted';
  for (const name of names) u.searchParams.set(name, 'redacted');
  return u.toString();
}

/** Why this URL's host can never be a public destination (literal private IP, localhost), else null. */
export function privateDestinationProblem(url: string): string | null {
  // A trailing dot (localhost., also spelled localhost%2E) names the same host (attack30).
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is this host`;
  if (net.isIP(host) !== 0 && !isPublicAddress(host)) return `${host} is not a public address`;
  return null;
}

export class DestinationNotAllowedError extends Error {
  readonly code = 'ERR_WEBHOOK_DESTINATION';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** Every address of a name (A and AAAA). */
export type AddressLookup = (hostname: string) => Promise<dns.LookupAddress[]>;

/** The system resolver (getaddrinfo). */
const systemLookup: AddressLookup = (hostname) => dns.promises.lookup(hostname, { all: true });

/** A and AAAA from the given DNS servers (config dns.servers); fails only when neither answers. */
export function lookupVia(servers: readonly { host: string; port: number }[], timeoutMs: number): AddressLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  resolver.setServers(servers.map((s) => (s.host.includes(':') ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`)));
  return async (hostname) => {
    if (net.isIP(hostname)) return [{ address: hostname, family: net.isIP(hostname) }];
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(hostname), resolver.resolve6(hostname)]);
    const out = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (out.length === 0 && v4.status === 'rejected') throw v4.reason;
    return out;
  };
}

/** dns.lookup that answers only public addresses (all of them must be: no mixing in a private one). */
export function publicLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  guardedLookup(systemLookup)(hostname, options, callback);
}

/** A net.connect-style lookup through `lookup` that answers only public addresses. */
export function guardedLookup(lookup: AddressLookup) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    lookup(hostname).then((addresses) => checkPublic(hostname, options, addresses, callback), (err: NodeJS.ErrnoException) => callback(err, []));
  };
}

/** Answers the addresses (of the asked family) only when every one of them is public. */
function checkPublic(hostname: string, options: dns.LookupOptions, all: dns.LookupAddress[], callback: LookupCallback): void {
  const addresses = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
  const blocked = addresses.find((a) => !isPublicAddress(a.address));
  if (blocked || addresses.length === 0) {
    return callback(Object.assign(new DestinationNotAllowedError(`${hostname} resolves to ${blocked?.address ?? 'nothing'}, not a public address`), { errno: 0 }), []);
  }
  if (options.all) return callback(null, addresses);
  callback(null, addresses[0]!.address, addresses[0]!.family);
}

/**
 * A fetch that connects only to public addresses: literal IPs are checked before connecting, names
 * at connection time through the guarded lookup (undici passes `lookup` to net/tls.connect).
 */
export function publicOnlyFetch(lookup: AddressLookup = systemLookup): typeof fetch {
  // undici is loaded by the first POST, not at start (bench/README.md "Memory"): most relays have no webhook.
  let client: Promise<{ agent: Agent; fetch: typeof import('undici').fetch }> | null = null;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url;
    const problem = privateDestinationProblem(url);
    if (problem) throw new DestinationNotAllowedError(`webhook destination refused: ${problem}`);
    client ??= import('undici').then((u) => ({ agent: new u.Agent({ connect: { lookup: guardedLookup(lookup) as never } }), fetch: u.fetch }));
    const { agent, fetch: undiciFetch } = await client;
    return undiciFetch(url, { ...(init as object), dispatcher: agent } as never) as unknown as Response;
  }) as typeof fetch;
}
