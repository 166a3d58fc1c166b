// Owns the per-client AUTH failure counts (config smtp.auth.*): each failure from a client
// address is answered after a delay that doubles per failure, and after maxFailures within
// failureWindow the address is refused AUTH for `lockout`. IPv6 clients are counted per /64, since
// one host can use a whole prefix. Memory is bounded: expired entries are swept as the map grows.
import type { Clock } from '../../clock.js';

export interface AuthLimits { maxFailures: number; failureWindow: number; lockout: number; failureDelay: number }

interface Entry { failures: number; firstAt: number; lockedUntil: number }

/** No single failure waits longer than this, whatever the configured doubling gives. */
const MAX_DELAY_MS = 30_000;
const SWEEP_AT_ENTRIES = 10_000;

export class AuthLimiter {
  #entries = new Map<string, Entry>();

  constructor(private readonly limits: AuthLimits, private readonly clock: Clock) {}

  /** Whether AUTH may be tried now; false while the client is locked out. */
  isAllowed(ip: string): boolean {
    const e = this.#current(clientKey(ip));
    return !e || e.lockedUntil <= this.clock.now();
  }

  /** Counts a failure; returns how long to wait before answering it, and whether it locked the client out. */
  recordFailure(ip: string): { delayMs: number; lockedOut: boolean } {
    const key = clientKey(ip);
    const now = this.clock.now();
    const e = this.#current(key) ?? { failures: 0, firstAt: now, lockedUntil: 0 };
    e.failures++;
    const lockedOut = e.failures >= this.limits.maxFailures;
    if (lockedOut) e.lockedUntil = now + this.limits.lockout;
    this.#entries.set(key, e);
    if (this.#entries.size > SWEEP_AT_ENTRIES) this.#sweep();
    const delayMs = Math.min(this.limits.failureDelay * 2 ** (e.failures - 1), MAX_DELAY_MS);
    return { delayMs, lockedOut };
  }

  /** A success forgets the client's earlier failures. */
  recordSuccess(ip: string): void {
    this.#entries.delete(clientKey(ip));
  }

  /** The entry if it still matters: inside its failure window or its lockout. */
  #current(key: string): Entry | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    const now = this.clock.now();
    if (e.lockedUntil > now) return e;
    if (e.lockedUntil === 0 && now - e.firstAt < this.limits.failureWindow) return e;
    this.#entries.delete(key);
    return undefined;
  }

  #sweep() {
    for (const key of [...this.#entries.keys()]) this.#current(key);
  }

  /** For tests and metrics. */
  get size(): number { return this.#entries.size; }
}

/** IPv4 as is (also when IPv4-mapped), IPv6 reduced to its /64. */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  return expandIPv6(ip).slice(0, 4).join(':') + '::/64';
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.split('%')[0]!.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...zeros, ...right].map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)));
}
