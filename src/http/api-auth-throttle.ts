// Owns the throttle of failed API authentications (http.authFailures; attack pass, thirty-first
// session): a well-formed bearer token whose key is not in this process's key cache costs a store
// lookup (the SQLite worker or a PostgreSQL round trip), and anyone can send them by the thousand.
// The counting is SMTP AUTH's (ingress/smtp/auth-limiter.ts, tryBegin), per client address (IPv6
// per /64: net/client-key.ts), apart from the SMTP and dashboard counts. What it does:
// - A malformed token (not pl_<16 hex>_<43 base64url>) is refused with no lookup and not counted:
//   it costs a regular expression.
// - A token whose key id the cache holds is checked against the cached record, no lookup, not
//   limited: what a known key costs is a hash. So is a busy neighbour behind the same NAT served.
// - Any other token is admitted while the address has failed fewer than maxFailures lookups in
//   failureWindow, lookups in flight counted (parallel guesses get no more than sequential ones);
//   then the address is answered 429 too_many_attempts with Retry-After, before any lookup, for
//   `lockout`. An address that authenticated with a key in the last day is still admitted for that
//   key (the neighbour behind the same NAT whose cached record expired).
// - A token whose key id is being looked up already (a client's parallel requests with a key not
//   yet cached: 50 connections opened at once) waits for that lookup, once, instead of counting an
//   attempt of its own: the lookup is shared (api-key-cache.ts), so it costs the store nothing, and
//   counted it made a legitimate client's first burst look like guessing (429s at 50 clients,
//   found by the lead's `bench/run.sh all` the same session). After the wait a cached key is
//   served; anything else is counted as above (the same unknown id sent in parallel still gets no
//   more than maxFailures lookups).
// No negative cache: random tokens are all new, so it would never hit; what bounds the store's work
// is maxFailures per address per window, times the addresses an attacker holds.
import type { Clock } from '../clock.js';
import { parseApiToken, type ApiKeyAuthenticator } from '../accounts/api-keys.js';
import { ApiError } from '../ingress/http/api-error.js';
import { AuthLimiter } from '../ingress/smtp/auth-limiter.js';
import type { ApiKeyRecord } from '../store/platform-store.js';

export interface ApiAuthLimits {
  maxFailures: number;
  failureWindow: number;
  lockout: number;
}

export class ApiAuthThrottle {
  readonly #limiter: AuthLimiter;
  /** The counted lookups in flight, by key id: a request for the same id waits for it once. */
  readonly #pending = new Map<string, Promise<unknown>>();

  constructor(limits: ApiAuthLimits, clock: Clock, private readonly auth: ApiKeyAuthenticator,
    private readonly isCached: (keyId: string) => boolean, private readonly onThrottled?: () => void) {
    // No per-key lockout: guesses at a known key id are not a threat to its 256-bit secret, and
    // locking the id would let anyone who saw it lock its owner out of new addresses.
    this.#limiter = new AuthLimiter({ ...limits, maxFailuresPerUser: Number.MAX_SAFE_INTEGER, failureDelay: 0 }, clock);
  }

  /** The key of `token` from client `ip`, or null (401); 429 when `ip` has failed too often; store errors rethrown. */
  async authenticate(token: string, ip: string): Promise<ApiKeyRecord | null> {
    const parsed = parseApiToken(token);
    if (!parsed) return null;
    if (this.isCached(parsed.id)) return this.auth.authenticate(token);
    const pending = this.#pending.get(parsed.id);
    if (pending) {
      await pending.catch(() => undefined);
      if (this.isCached(parsed.id)) return this.auth.authenticate(token);
    }
    const attempt = this.#limiter.tryBegin(ip, parsed.id);
    if ('retryAfterMs' in attempt) {
      this.onThrottled?.();
      throw new ApiError(429, 'too_many_attempts', 'Too many failed authentications from this address, try again later', [],
        Math.max(1, Math.ceil(attempt.retryAfterMs / 1000)));
    }
    const lookup = this.auth.authenticate(token);
    this.#pending.set(parsed.id, lookup);
    let key: ApiKeyRecord | null;
    try {
      key = await lookup;
    } catch (err) {
      attempt.abandoned();
      throw err;
    } finally {
      if (this.#pending.get(parsed.id) === lookup) this.#pending.delete(parsed.id);
    }
    if (key) attempt.succeeded();
    else attempt.failed();
    return key;
  }

  /** Addresses and key ids held (tests). */
  get size(): number { return this.#limiter.size; }
}
