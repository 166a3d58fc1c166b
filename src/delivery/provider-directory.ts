// Owns the scheduler's knowledge of which provider each recipient domain rolls up to (providers.ts
// providerOfRoute over the domain's MX hosts): looked up once per domain and kept for an hour
// (a failed lookup: a minute), bounded in size. It also remembers, per provider, the domains seen,
// so the scheduler can leave a throttled or full provider's domains out of its claims.
import type { Clock } from '../clock.js';
import { providerOf, providerOfRoute, type ProviderMxRule } from './providers.js';
import type { MxResolver } from './resolver.js';

const TTL_MS = 3_600_000;
const FAILED_TTL_MS = 60_000;
const MAX_DOMAINS = 200_000;
/** Domains remembered per provider for claim exclusion (beyond that the waiting cap bounds claims). */
const MAX_DOMAINS_PER_PROVIDER = 20_000;

export class ProviderDirectory {
  readonly #cache = new Map<string, { provider: string; until: number }>();
  readonly #pending = new Map<string, Promise<string>>();
  readonly #domains = new Map<string, Set<string>>();

  constructor(private readonly resolver: Pick<MxResolver, 'resolveMx'>, private readonly clock: Clock, private readonly mxRules: readonly ProviderMxRule[] = []) {}

  /** The provider of `domain` if known now (no lookup). */
  known(domain: string): string | undefined {
    const hit = this.#cache.get(domain);
    return hit && hit.until > this.clock.now() ? hit.provider : undefined;
  }

  /** Known domains of a provider (those seen by this node). */
  domainsOf(provider: string): ReadonlySet<string> { return this.#domains.get(provider) ?? new Set(); }

  /**
   * Look up every domain not known yet, at once, waiting at most `maxWaitMs`: a domain whose DNS is
   * slower is not shaped for this claim (its lookup goes on and is cached), so a DNS timeout does
   * not hold the claim loop for the resolver's full timeout.
   */
  async learn(domains: Iterable<string>, maxWaitMs = 2000): Promise<void> {
    const lookups = Promise.all([...new Set(domains)].filter((d) => this.known(d) === undefined).map((d) => this.lookup(d)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, maxWaitMs); timer.unref(); });
    try { await Promise.race([lookups, timeout]); } finally { clearTimeout(timer); }
  }

  lookup(domain: string): Promise<string> {
    const known = this.known(domain);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.#pending.get(domain);
    if (!p) {
      p = this.#resolve(domain).finally(() => this.#pending.delete(domain));
      this.#pending.set(domain, p);
    }
    return p;
  }

  async #resolve(domain: string): Promise<string> {
    let provider: string;
    let ttl = TTL_MS;
    try {
      const records = await this.resolver.resolveMx(domain);
      const usable = records.filter((r) => r.exchange !== '' && r.exchange !== '.');
      // Only the most preferred hosts: a backup MX is not where the replies come from (and an
      // attacker's domain may list a provider's host as a never-used backup to borrow its rollup).
      const best = Math.min(...usable.map((r) => r.priority));
      const hosts = usable.filter((r) => r.priority === best).map((r) => r.exchange);
      provider = providerOfRoute(domain, hosts, this.mxRules);
    } catch {
      const byDomain = providerOf(domain); // no MX (implicit), NXDOMAIN or a failure: the domain table
      provider = byDomain === 'other' ? domain : byDomain;
      ttl = FAILED_TTL_MS;
    }
    if (this.#cache.size >= MAX_DOMAINS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(domain, { provider, until: this.clock.now() + ttl });
    let set = this.#domains.get(provider);
    if (!set) this.#domains.set(provider, (set = new Set()));
    if (set.size < MAX_DOMAINS_PER_PROVIDER) set.add(domain);
    return provider;
  }
}
