// Owns this process's cache of API key records, in front of the store's getApiKey: the HTTP API
// looks a key up on every request, and a cached record saves that round trip (the SQLite worker
// or PostgreSQL). Only keys found and not revoked are kept, for `ttlMs` from their lookup; the
// secret is still checked against the record's hash on every request (api-keys.ts). Revocation
// latency: a key revoked through this process (DELETE /v1/keys/:id, the dashboard) is forgotten
// at once; revoked elsewhere (the CLI, another node) or its account removed, it keeps working
// here for at most `ttlMs` (docs/api.md says so).
import type { Clock } from '../clock.js';
import type { ApiKeyRecord } from '../store/platform-store.js';
import type { KeyLookup } from './api-keys.js';
import { SharedLookups } from './shared-lookups.js';

/** At most this many records are kept; a full cache starts again empty (a flood of valid keys is not expected). */
const MAX_ENTRIES = 10_000;

export class ApiKeyCache implements KeyLookup {
  readonly #records = new Map<string, { record: ApiKeyRecord; at: number }>();
  /** Bumped by forget(): a lookup that started before a revocation does not cache what it read. */
  #forgets = 0;
  /** `onLookup`: called with each store lookup's outcome (postlane_api_key_lookups_total). */
  constructor(private readonly store: KeyLookup, private readonly clock: Clock, private readonly ttlMs: number,
    private readonly onLookup?: (found: boolean) => void) {
    this.#pending = new SharedLookups(ttlMs);
  }

  /**
   * Lookups in flight by key id, shared by the requests that miss meanwhile (shared-lookups.ts, for
   * at most `ttlMs`). forget() drops them all, so a request after a revocation never takes a read
   * that began before it.
   */
  readonly #pending: SharedLookups<ApiKeyRecord | null>;

  getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const now = this.clock.now();
    const hit = this.#records.get(id);
    if (hit && now - hit.at < this.ttlMs) return Promise.resolve(hit.record);
    this.#records.delete(id);
    if (this.ttlMs <= 0) return this.#lookup(id, now); // no cache asked for: every request reads the store
    return this.#pending.get(id, now, () => this.#lookup(id, now));
  }

  /** Whether getApiKey(id) would answer without reading the store (a record cached and fresh). */
  isCached(id: string): boolean {
    const hit = this.#records.get(id);
    return hit !== undefined && this.clock.now() - hit.at < this.ttlMs;
  }

  async #lookup(id: string, now: number): Promise<ApiKeyRecord | null> {
    const forgets = this.#forgets;
    const record = await this.store.getApiKey(id);
    this.onLookup?.(record !== null);
    if (record && record.revokedAt === null && this.ttlMs > 0 && forgets === this.#forgets) {
      if (this.#records.size >= MAX_ENTRIES) this.#records.clear();
      this.#records.set(id, { record, at: now });
    }
    return record;
  }

  touchApiKey(id: string, at: number): Promise<void> { return this.store.touchApiKey(id, at); }

  /** Key `id` was revoked through this process: the next request looks it up again. */
  forget(id: string): void {
    this.#forgets++;
    this.#records.delete(id);
    this.#pending.clear();
  }
}
