// Accounts as the hot paths read them (quota limits, the links domain): from the store, each kept a
// few seconds, since the CLI or another node may change an account at any time and a change that
// takes effect within ACCOUNT_CACHE_MS is soon enough. One per process, shared by its readers.
import type { Clock } from '../clock.js';
import type { Account, PlatformStore } from '../store/platform-store.js';

export const ACCOUNT_CACHE_MS = 5000;

export class AccountCache {
  readonly #hits = new Map<string, { account: Account | null; at: number }>();
  /**
   * Lookups in flight: readers that miss while one runs wait for it (no burst of the same read when
   * an entry expires under load), but only while it is younger than ACCOUNT_CACHE_MS: a lookup stuck
   * on a dead connection must not hold every later reader (they start their own, as before).
   */
  readonly #pending = new Map<string, { lookup: Promise<Account | null>; at: number }>();
  constructor(private readonly store: Pick<PlatformStore, 'getAccount'>, private readonly clock: Clock) {}

  /** The account (null if unknown), at most ACCOUNT_CACHE_MS old. A store failure propagates (to every reader of that lookup). */
  get(name: string): Promise<Account | null> {
    const now = this.clock.now();
    const hit = this.#hits.get(name);
    if (hit && now - hit.at < ACCOUNT_CACHE_MS) return Promise.resolve(hit.account);
    const pending = this.#pending.get(name);
    if (pending && now - pending.at < ACCOUNT_CACHE_MS) return pending.lookup;
    const lookup = this.#lookup(name, now);
    // A newer lookup may have taken this one's place (this one got old): only this one is removed.
    const done = () => { if (this.#pending.get(name)?.lookup === lookup) this.#pending.delete(name); };
    lookup.then(done, done);
    this.#pending.set(name, { lookup, at: now });
    return lookup;
  }

  async #lookup(name: string, now: number): Promise<Account | null> {
    const account = await this.store.getAccount(name);
    this.#hits.set(name, { account, at: now });
    return account;
  }

  /** The last value read, however old (a fallback while the store cannot answer). */
  stale(name: string): Account | null | undefined { return this.#hits.get(name)?.account; }
}
