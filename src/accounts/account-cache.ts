// Accounts as the hot paths read them (quota limits, the links domain): from the store, each kept a
// few seconds, since the CLI or another node may change an account at any time and a change that
// takes effect within ACCOUNT_CACHE_MS is soon enough. One per process, shared by its readers.
import type { Clock } from '../clock.js';
import type { Account, PlatformStore } from '../store/platform-store.js';
import { SharedLookups } from './shared-lookups.js';

export const ACCOUNT_CACHE_MS = 5000;

export class AccountCache {
  readonly #hits = new Map<string, { account: Account | null; at: number }>();
  /** Lookups in flight, shared by the readers that miss meanwhile (shared-lookups.ts). */
  readonly #pending = new SharedLookups<Account | null>(ACCOUNT_CACHE_MS);
  constructor(private readonly store: Pick<PlatformStore, 'getAccount'>, private readonly clock: Clock) {}

  /** The account (null if unknown), at most ACCOUNT_CACHE_MS old. A store failure propagates (to every reader of that lookup). */
  get(name: string): Promise<Account | null> {
    const now = this.clock.now();
    const hit = this.#hits.get(name);
    if (hit && now - hit.at < ACCOUNT_CACHE_MS) return Promise.resolve(hit.account);
    return this.#pending.get(name, now, () => this.#lookup(name, now));
  }

  async #lookup(name: string, now: number): Promise<Account | null> {
    const account = await this.store.getAccount(name);
    this.#hits.set(name, { account, at: now });
    return account;
  }

  /** The account if a read of it is at most ACCOUNT_CACHE_MS old (what get() would answer without a lookup); undefined: get() must read it. */
  fresh(name: string): Account | null | undefined {
    const hit = this.#hits.get(name);
    return hit && this.clock.now() - hit.at < ACCOUNT_CACHE_MS ? hit.account : undefined;
  }

  /** The last value read, however old (a fallback while the store cannot answer). */
  stale(name: string): Account | null | undefined { return this.#hits.get(name)?.account; }
}
