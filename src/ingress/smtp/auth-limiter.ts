// Owns the AUTH failure counts (config smtp.auth.*). Failures are counted twice: per client
// address (IPv6 per /64, since one host can use a whole prefix: net/client-key.ts) and per target user name (a
// guesser spread over many addresses), each within failureWindow; reaching maxFailures
// (maxFailuresPerUser) locks that address (user) out of AUTH for `lockout`.
//
// Three rules make the counts hold against an attacker:
// - An attempt counts from the moment it starts: `begin` admits it only while the failures
//   already counted plus the attempts still being checked stay under the limit; further attempts
//   wait for those to finish. Thirty parallel sessions from one address therefore get at most
//   maxFailures answers of 535, then 421, exactly like thirty sequential ones: concurrency buys
//   nothing. (Right passwords are not slowed: up to maxFailures checks run at once.)
// - A success clears only what it proves: the failures of that address for that user name (the
//   user mistyped, then got it right). It clears nothing for other user names, so an attacker who
//   owns one account cannot reset its address's count by logging in between guesses at another.
// - An address that logged in as a user in the last day stays admitted for that user while the
//   user is locked (the lockout is meant for guessers, not for the application that owns the
//   account); the per-address limit still applies to it.
// Each failure is answered after a delay that doubles per failure. Memory is bounded: expired
// entries are swept as the map grows (after a failure or a success: the API admits many addresses
// that never fail), and the next sweep waits until the map has doubled, so a map of many live
// entries is not scanned at every attempt.
import type { Clock } from '../../clock.js';
import { clientKey } from '../../net/client-key.js';

export interface AuthLimits {
  maxFailures: number;
  /** Failures against one user name, from any address, before it is locked; default 2 × maxFailures. */
  maxFailuresPerUser?: number;
  failureWindow: number;
  lockout: number;
  failureDelay: number;
}

/** One AUTH check admitted by `begin`: report how it ended, exactly once. */
export interface AuthAttempt {
  succeeded(): void;
  /** Counts the failure; how long to wait before answering it, and whether it locked the address or user out. */
  failed(): { delayMs: number; lockedOut: boolean };
  /** The check itself failed (store unavailable): releases the attempt without counting it. */
  abandoned(): void;
}

interface Counter {
  failures: number;
  firstAt: number;
  lockedUntil: number;
  /** Attempts admitted and not finished yet. */
  inFlight: number;
  /** Failures by the other side of the pair (user name for an address counter, address for a user counter). */
  byPeer: Map<string, number>;
  /** User counters: addresses that logged in as this user, and until when they are trusted. */
  trusted: Map<string, number>;
  waiters: Array<() => void>;
}

/** No single failure waits longer than this, whatever the configured doubling gives. */
const MAX_DELAY_MS = 30_000;
const SWEEP_AT_ENTRIES = 10_000;
const TRUST_MS = 24 * 3600_000;

export class AuthLimiter {
  #counters = new Map<string, Counter>();
  readonly #maxPerUser: number;
  /** The map's size that triggers the next sweep. */
  #sweepAt = SWEEP_AT_ENTRIES;

  constructor(private readonly limits: AuthLimits, private readonly clock: Clock) {
    this.#maxPerUser = limits.maxFailuresPerUser ?? limits.maxFailures * 2;
  }

  /** Admits one AUTH check for `user` from `ip`, waiting for checks in flight if need be; 'locked' while locked out. */
  async begin(ip: string, user: string): Promise<AuthAttempt | 'locked'> {
    const ipKey = clientKey(ip);
    const userName = user.toLowerCase();
    for (;;) {
      const byIp = this.#counter(`ip:${ipKey}`);
      const byUser = this.#counter(`user:${userName}`);
      const now = this.clock.now();
      const trusted = (byUser.trusted.get(ipKey) ?? 0) > now;
      if (byIp.lockedUntil > now || (!trusted && byUser.lockedUntil > now)) return 'locked';
      const full = byIp.failures + byIp.inFlight >= this.limits.maxFailures ? byIp
        : !trusted && byUser.failures + byUser.inFlight >= this.#maxPerUser ? byUser : null;
      if (full) {
        await new Promise<void>((resolve) => full.waiters.push(resolve));
        continue;
      }
      byIp.inFlight++;
      byUser.inFlight++;
      return this.#attempt(byIp, byUser, ipKey, userName);
    }
  }

  /**
   * The HTTP API's admission (http/api-auth-throttle.ts): begin's counting, but it never waits (the
   * answer is then a 429 at once: a waiting request would hold its connection), reports how long
   * to wait instead, and creates no entry for an attempt it refuses. An address that authenticated
   * as `user` in the last day passes the address's limits as well as the user's: the API's guesses
   * are at 256-bit secrets and are limited for what they cost, and a known key is answered from the
   * key cache without that cost, so a neighbour behind the same NAT need not share a guesser's lockout.
   */
  tryBegin(ip: string, user: string): AuthAttempt | { retryAfterMs: number } {
    const ipKey = clientKey(ip);
    const userName = user.toLowerCase();
    const now = this.clock.now();
    const trusted = (this.#counters.get(`user:${userName}`)?.trusted.get(ipKey) ?? 0) > now;
    const byIp = this.#counter(`ip:${ipKey}`);
    if (!trusted) {
      if (byIp.lockedUntil > now) return { retryAfterMs: byIp.lockedUntil - now };
      if (byIp.failures + byIp.inFlight >= this.limits.maxFailures) return { retryAfterMs: 1000 };
    }
    const byUser = this.#counter(`user:${userName}`);
    if (!trusted) {
      if (byUser.lockedUntil > now) return { retryAfterMs: byUser.lockedUntil - now };
      if (byUser.failures + byUser.inFlight >= this.#maxPerUser) return { retryAfterMs: 1000 };
    }
    byIp.inFlight++;
    byUser.inFlight++;
    return this.#attempt(byIp, byUser, ipKey, userName);
  }

  #attempt(byIp: Counter, byUser: Counter, ipKey: string, userName: string): AuthAttempt {
    let done = false;
    const finish = () => {
      if (done) throw new Error('AuthAttempt: reported twice');
      done = true;
      byIp.inFlight--;
      byUser.inFlight--;
    };
    return {
      succeeded: () => {
        finish();
        forget(byIp, userName);
        forget(byUser, ipKey);
        byUser.trusted.set(ipKey, this.clock.now() + TRUST_MS);
        wake(byIp, byUser);
        this.#maybeSweep();
      },
      failed: () => {
        finish();
        const now = this.clock.now();
        const ipLocked = this.#count(byIp, userName, this.limits.maxFailures, now);
        const userLocked = this.#count(byUser, ipKey, this.#maxPerUser, now);
        wake(byIp, byUser);
        this.#maybeSweep();
        const failures = Math.max(byIp.failures, byUser.failures);
        return { delayMs: Math.min(this.limits.failureDelay * 2 ** (failures - 1), MAX_DELAY_MS), lockedOut: ipLocked || userLocked };
      },
      abandoned: () => {
        finish();
        wake(byIp, byUser);
      },
    };
  }

  /** Adds one failure to `c` (from `peer`); true when that reached `max` and locked it. */
  #count(c: Counter, peer: string, max: number, now: number): boolean {
    if (c.failures === 0) c.firstAt = now;
    c.failures++;
    c.byPeer.set(peer, (c.byPeer.get(peer) ?? 0) + 1);
    if (c.failures < max || c.lockedUntil > now) return false;
    c.lockedUntil = now + this.limits.lockout;
    return true;
  }

  /** The counter for `key`, its counts reset when its window (or lockout) has passed. */
  #counter(key: string): Counter {
    let c = this.#counters.get(key);
    if (!c) {
      c = { failures: 0, firstAt: 0, lockedUntil: 0, inFlight: 0, byPeer: new Map(), trusted: new Map(), waiters: [] };
      this.#counters.set(key, c);
      return c;
    }
    const now = this.clock.now();
    const expired = c.lockedUntil > 0 ? c.lockedUntil <= now : now - c.firstAt >= this.limits.failureWindow;
    if (c.failures > 0 && expired) {
      c.failures = 0;
      c.lockedUntil = 0;
      c.byPeer.clear();
    }
    return c;
  }

  #maybeSweep() {
    if (this.#counters.size <= this.#sweepAt) return;
    this.#sweep();
    this.#sweepAt = Math.max(SWEEP_AT_ENTRIES, this.#counters.size * 2);
  }

  #sweep() {
    const now = this.clock.now();
    for (const [key, c] of this.#counters) {
      for (const [peer, until] of c.trusted) if (until <= now) c.trusted.delete(peer);
      this.#counter(key);
      if (c.failures === 0 && c.inFlight === 0 && c.waiters.length === 0 && c.trusted.size === 0) this.#counters.delete(key);
    }
  }

  /** Entries held (addresses and user names), for tests and metrics. */
  get size(): number { return this.#counters.size; }
}

/** A success: the failures `c` counted from `peer` were that peer's own mistakes. */
function forget(c: Counter, peer: string) {
  c.failures -= c.byPeer.get(peer) ?? 0;
  c.byPeer.delete(peer);
}

function wake(...counters: Counter[]) {
  for (const c of counters) for (const resolve of c.waiters.splice(0)) resolve();
}
