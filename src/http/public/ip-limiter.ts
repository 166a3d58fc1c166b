// Owns the per-client-address counters of the public endpoints (one-click unsubscribe POSTs,
// tracking events): a fixed window per address, swept when the map grows, in memory on each node.
import type { Clock } from '../../clock.js';

export class IpWindowLimiter {
  #windows = new Map<string, { start: number; n: number }>();
  constructor(private readonly clock: Clock, private readonly perWindow: number, private readonly windowMs = 60_000) {}

  /** Counts one request of `ip`: 'ok' within the limit, 'first-over' for the first one past it, then 'over'. */
  take(ip: string): 'ok' | 'first-over' | 'over' {
    const now = this.clock.now();
    if (this.#windows.size > 10_000) for (const [k, w] of this.#windows) if (now - w.start >= this.windowMs) this.#windows.delete(k);
    const w = this.#windows.get(ip);
    if (!w || now - w.start >= this.windowMs) { this.#windows.set(ip, { start: now, n: 1 }); return 'ok'; }
    w.n++;
    return w.n <= this.perWindow ? 'ok' : w.n === this.perWindow + 1 ? 'first-over' : 'over';
  }

  allow(ip: string): boolean { return this.take(ip) === 'ok'; }
}
