// Owns the choice of DKIM key for one message, for the accept path (and generated DSNs): the
// From domain's own keys, else a configured parent domain's (still aligned for DMARC under relaxed
// alignment), else the fallback domain (domains.signUnconfiguredWith, by default the hostname
// when it is a sending domain), else no signature. Mail from unconfigured domains is logged.
// Domain lookups (found or not) are reused for DOMAIN_CACHE_MS, so a busy sender costs no store
// round trip per message; a key activated or a domain removed by the CLI applies within that time.
import type { Readable } from 'node:stream';
import type { Clock } from '../clock.js';
import type { DomainsConfig } from '../config/schema.js';
import type { Logger } from '../events/log.js';
import type { QueueStore, SendingDomain } from '../store/store.js';
import { signMessage, type SigningKey } from './dkim-sign.js';
import { domainAndParents } from './domain-name.js';

export interface MessageSignerDeps {
  store: Pick<QueueStore, 'getDomain'>;
  hostname: string;
  domains: Pick<DomainsConfig, 'signUnconfiguredWith'>;
  clock: Clock;
  logger: Logger;
}

export interface SignOutcome {
  /** DKIM-Signature lines (CRLF-terminated) to put at the top of the message; '' when unsigned. */
  headers: string;
  /** d= of the signatures, or null when unsigned. */
  domain: string | null;
  /** d= is the author domain or its parent (passes DMARC's relaxed DKIM alignment). */
  aligned: boolean;
}

const DOMAIN_CACHE_MS = 5000;
const DOMAIN_CACHE_MAX = 10_000;

const activeKeys = (d: SendingDomain | null): SigningKey[] =>
  (d?.keys ?? []).filter((k) => k.state === 'active').map(({ selector, algorithm, privateKey }) => ({ selector, algorithm, privateKey }));

export class MessageSigner {
  /** settled: the lookup's answer once it came (absent: still pending); a failed lookup is removed. */
  readonly #domains = new Map<string, { at: number; value: Promise<SendingDomain | null>; settled?: SendingDomain | null }>();
  constructor(private readonly deps: MessageSignerDeps) {}

  /**
   * Signs `message` (the complete message as it will be stored, header block first) for its author
   * domain `fromDomain` (header-from.ts authorDomain(); null: none or ambiguous). Throws
   * DkimSignError (ERR_DKIM_SIGN) if a stored key cannot sign; store errors propagate.
   */
  async sign(message: Buffer | Readable, fromDomain: string | null, ctx: { id: string }): Promise<SignOutcome> {
    const own = fromDomain ? await this.#ownKeys(fromDomain) : null;
    const chosen = own ?? (await this.#fallback());
    if (!own) this.#logUnconfigured(ctx.id, fromDomain, chosen?.domain ?? null);
    if (!chosen) {
      if (!Buffer.isBuffer(message)) message.resume(); // nothing will read it: do not buffer the message
      return { headers: '', domain: null, aligned: false };
    }
    const headers = await signMessage(message, { domain: chosen.domain, keys: chosen.keys, signTime: new Date(this.deps.clock.now()) });
    return { headers, domain: chosen.domain, aligned: own !== null };
  }

  /**
   * sign()'s answer, given now, when the domain lookups it would make are all in the cache (answered,
   * fresh) and none has an active key: the message will not be signed, so the caller need not stream
   * it to the signer at all (accept.ts then makes no tee). Logs what sign() would. null: not known
   * without waiting (a lookup missing, pending or expired, or a key found): call sign().
   */
  unsignedNow(fromDomain: string | null, ctx: { id: string }): SignOutcome | null {
    if (fromDomain) for (const name of domainAndParents(fromDomain)) if (!this.#knownKeyless(name)) return null;
    const setting = this.deps.domains.signUnconfiguredWith;
    if (setting !== false && !this.#knownKeyless((setting ?? this.deps.hostname).toLowerCase())) return null;
    this.#logUnconfigured(ctx.id, fromDomain, null);
    return { headers: '', domain: null, aligned: false };
  }

  /** The cached lookup of `name` has answered, is still fresh (as #domain would reuse it) and has no active key. */
  #knownKeyless(name: string): boolean {
    const hit = this.#domains.get(name);
    return hit !== undefined && hit.settled !== undefined && this.deps.clock.now() - hit.at < DOMAIN_CACHE_MS && activeKeys(hit.settled).length === 0;
  }

  #logUnconfigured(id: string, fromDomain: string | null, signedAs: string | null): void {
    if (!this.deps.logger.isLevelEnabled('info')) return;
    this.deps.logger.info({ event: 'dkim.unconfigured_domain', id, domain: fromDomain, signedAs },
      signedAs !== null ? 'From domain is not a sending domain: signed with the fallback domain (not aligned)' : 'From domain is not a sending domain: not signed');
  }

  /** The sending domain that will sign mail from `fromDomain` when it is aligned (it or a parent has active keys); null otherwise. */
  async alignedDomain(fromDomain: string | null): Promise<string | null> {
    return fromDomain ? (await this.#ownKeys(fromDomain))?.domain ?? null : null;
  }

  async #ownKeys(fromDomain: string): Promise<{ domain: string; keys: SigningKey[] } | null> {
    for (const name of domainAndParents(fromDomain)) {
      const keys = activeKeys(await this.#domain(name));
      if (keys.length > 0) return { domain: name, keys };
    }
    return null;
  }

  async #fallback(): Promise<{ domain: string; keys: SigningKey[] } | null> {
    const setting = this.deps.domains.signUnconfiguredWith;
    if (setting === false) return null;
    const name = (setting ?? this.deps.hostname).toLowerCase();
    const keys = activeKeys(await this.#domain(name));
    return keys.length > 0 ? { domain: name, keys } : null;
  }

  /** store.getDomain, reused for DOMAIN_CACHE_MS (a failed lookup is not kept). */
  #domain(name: string): Promise<SendingDomain | null> {
    const now = this.deps.clock.now();
    const hit = this.#domains.get(name);
    if (hit && now - hit.at < DOMAIN_CACHE_MS) return hit.value;
    if (this.#domains.size >= DOMAIN_CACHE_MAX) this.#domains.clear();
    const value = this.deps.store.getDomain(name);
    const entry: { at: number; value: Promise<SendingDomain | null>; settled?: SendingDomain | null } = { at: now, value };
    this.#domains.set(name, entry);
    value.then((d) => { entry.settled = d; }, () => { if (this.#domains.get(name) === entry) this.#domains.delete(name); });
    return value;
  }
}
