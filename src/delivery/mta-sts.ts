// Owns MTA-STS policy discovery for recipient domains (RFC 8461 §3, §5): look up the
// `_mta-sts.<domain>` TXT record, reuse the cached policy while its id is unchanged and its
// max_age has not run out, otherwise fetch it over HTTPS (one fetch per domain at a time; a
// failed fetch is not retried for FETCH_RETRY_MS). A missing record or a failed lookup or fetch
// never drops an unexpired cached policy (that is how a downgrade is resisted); with nothing
// cached the domain has no policy. The cache lives in memory and in dataDir/mta-sts/policies.json
// (written atomically on change, loaded on first use), so a restart keeps enforcing.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock.js';
import type { Logger } from '../events/log.js';
import type { PolicyFetcher } from './mta-sts-fetch.js';
import { parseMtaStsPolicy, parseStsRecord, type MtaStsPolicy } from './mta-sts-policy.js';

export interface MtaStsDns { resolveTxt(name: string): Promise<string[][]> }

export interface CachedPolicy { domain: string; id: string; policy: MtaStsPolicy; fetchedAt: number; expiresAt: number }

export interface MtaStsOptions {
  dns: MtaStsDns;
  fetch: PolicyFetcher;
  clock: Clock;
  logger: Logger;
  /** Where the cache persists; null: memory only. */
  cacheFile: string | null;
  /** Told each failed policy fetch (TLS reports count them: tlsrpt/outcomes.ts). */
  onFetchFailed?: (domain: string, reason: string) => void;
}

/** After a failed fetch, the same policy id is not fetched again for this long. */
export const FETCH_RETRY_MS = 5 * 60_000;
/** The cache keeps at most this many domains (those expiring first are dropped). */
const MAX_ENTRIES = 10_000;

export class MtaStsResolver {
  readonly #o: MtaStsOptions;
  readonly #cache = new Map<string, CachedPolicy>();
  readonly #fetching = new Map<string, Promise<MtaStsPolicy | null>>();
  readonly #failedAt = new Map<string, number>(); // `${domain} ${id}` → when the fetch failed
  #loaded: Promise<void> | null = null;
  #saving: Promise<void> = Promise.resolve();

  constructor(opts: MtaStsOptions) { this.#o = opts; }

  /** The policy that applies to `domain` now (mode none included), or null if it has none. */
  async policyFor(domain: string): Promise<MtaStsPolicy | null> {
    await (this.#loaded ??= this.#load());
    const d = domain.toLowerCase();
    const cached = this.#live(d);
    let record: { id: string } | null;
    try {
      record = parseStsRecord(await this.#o.dns.resolveTxt(`_mta-sts.${d}`));
    } catch {
      record = null; // NXDOMAIN, NODATA or a failed lookup: keep to what is cached
    }
    if (!record || cached?.id === record.id) return cached?.policy ?? null;
    const running = this.#fetching.get(d);
    if (running) return running;
    const p = this.#refresh(d, record.id, cached).finally(() => this.#fetching.delete(d));
    this.#fetching.set(d, p);
    return p;
  }

  /** The unexpired cached entry for a domain (an expired one is forgotten). */
  #live(domain: string): CachedPolicy | null {
    const c = this.#cache.get(domain);
    if (!c) return null;
    if (c.expiresAt > this.#o.clock.now()) return c;
    this.#cache.delete(domain);
    return null;
  }

  async #refresh(domain: string, id: string, cached: CachedPolicy | null): Promise<MtaStsPolicy | null> {
    const now = this.#o.clock.now();
    const failedAt = this.#failedAt.get(`${domain} ${id}`);
    if (failedAt !== undefined && now - failedAt < FETCH_RETRY_MS) return cached?.policy ?? null;
    let reason: string;
    try {
      const parsed = parseMtaStsPolicy(await this.#o.fetch(domain));
      if (parsed.ok) {
        const { policy } = parsed;
        this.#failedAt.delete(`${domain} ${id}`);
        this.#store({ domain, id, policy, fetchedAt: now, expiresAt: now + policy.maxAge * 1000 });
        this.#o.logger.info({ event: 'mta_sts.policy_fetched', domain, id, mode: policy.mode, mx: policy.mx, maxAge: policy.maxAge }, 'MTA-STS policy fetched');
        return policy;
      }
      reason = `invalid policy: ${parsed.error}`;
    } catch (err) {
      reason = (err as Error).message;
    }
    this.#failedAt.set(`${domain} ${id}`, now);
    try { this.#o.onFetchFailed?.(domain, reason); } catch { /* an observer never breaks delivery */ }
    this.#o.logger.warn({ event: 'mta_sts.fetch_failed', domain, id, reason, usingCached: cached !== null }, 'MTA-STS policy fetch failed');
    return cached?.policy ?? null;
  }

  #store(entry: CachedPolicy): void {
    this.#cache.delete(entry.domain);
    this.#cache.set(entry.domain, entry);
    if (this.#cache.size > MAX_ENTRIES) {
      const byExpiry = [...this.#cache.values()].sort((a, b) => a.expiresAt - b.expiresAt);
      for (const e of byExpiry.slice(0, this.#cache.size - MAX_ENTRIES)) this.#cache.delete(e.domain);
    }
    this.#saving = this.#saving.then(() => this.#save()).catch((err: unknown) =>
      this.#o.logger.warn({ event: 'mta_sts.cache_write_failed', err }, 'could not write the MTA-STS policy cache'));
  }

  async #load(): Promise<void> {
    if (!this.#o.cacheFile) return;
    let text: string;
    try {
      text = await fsp.readFile(this.#o.cacheFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#o.logger.warn({ event: 'mta_sts.cache_read_failed', err }, 'could not read the MTA-STS policy cache');
      return;
    }
    try {
      const now = this.#o.clock.now();
      const entries = (JSON.parse(text) as { policies?: CachedPolicy[] }).policies ?? [];
      for (const e of entries) if (isCachedPolicy(e) && e.expiresAt > now) this.#cache.set(e.domain, e);
    } catch (err) {
      this.#o.logger.warn({ event: 'mta_sts.cache_read_failed', err }, 'the MTA-STS policy cache is corrupt; starting empty');
    }
  }

  async #save(): Promise<void> {
    const file = this.#o.cacheFile;
    if (!file) return;
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify({ version: 1, policies: [...this.#cache.values()] }), { mode: 0o600 });
    await fsp.rename(tmp, file);
  }

  /** Resolves when pending cache writes are done (for shutdown and tests). */
  flush(): Promise<void> { return this.#saving; }
}

function isCachedPolicy(e: unknown): e is CachedPolicy {
  const c = e as Partial<CachedPolicy> | null;
  return !!c && typeof c.domain === 'string' && typeof c.id === 'string' && typeof c.expiresAt === 'number'
    && typeof c.fetchedAt === 'number' && !!c.policy && Array.isArray(c.policy.mx) && typeof c.policy.mode === 'string';
}
