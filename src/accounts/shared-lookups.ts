// Store reads in flight, by key, shared by the callers that miss a cache while one runs: when an
// entry expires under load, one read instead of one per concurrent request (bench/README.md,
// thirteenth session, helper api13). A read is joined only while younger than `maxAgeMs`, so one
// stuck on a dead connection does not hold every later caller: they start their own. Owned by the
// caches in front of the store (account-cache.ts, api-key-cache.ts).
export class SharedLookups<T> {
  readonly #pending = new Map<string, { lookup: Promise<T>; at: number }>();
  constructor(private readonly maxAgeMs: number) {}

  /** The read of `key` in flight since less than maxAgeMs, else `read()` started now and shared. */
  get(key: string, now: number, read: () => Promise<T>): Promise<T> {
    const pending = this.#pending.get(key);
    if (pending && now - pending.at < this.maxAgeMs) return pending.lookup;
    const lookup = read();
    // A newer read may have taken this one's place (clear(), or this one got old): only this one is removed.
    const done = () => { if (this.#pending.get(key)?.lookup === lookup) this.#pending.delete(key); };
    lookup.then(done, done);
    this.#pending.set(key, { lookup, at: now });
    return lookup;
  }

  /** Forgets every read in flight: a caller after this starts its own. */
  clear(): void { this.#pending.clear(); }
}
