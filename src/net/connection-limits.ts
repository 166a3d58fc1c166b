// Counts a listener's open connections, in total and per client address, against two caps: the
// accounting shared by the SMTP listeners (smtp.maxConnections, smtp.maxConnectionsPerIp;
// ingress/smtp/listener.ts adds eviction on top) and the HTTP API's (http.maxConnections,
// http.maxConnectionsPerIp; http/lazy-listener.ts). One map entry per address with a connection
// open, none for an address whose connections have all closed: the memory is bounded by the cap.
// "One address" is net/client-key.ts's: an IPv6 client is counted per /64 (a host holds 2^64
// addresses: counted one by one, the per-address cap bounded nothing), IPv4-mapped IPv6 as IPv4.
import { clientKey } from './client-key.js';

/** Why a connection was refused: the listener is full, or its client address is. */
export type LimitReason = 'total' | 'per-ip';

export class ConnectionCounts {
  #total = 0;
  #perIp = new Map<string, number>();

  constructor(protected readonly maxTotal: number, protected readonly maxPerIp: number) {}

  /** Takes a slot for `ip` (its /64 for IPv6); false (nothing taken) when either cap is reached. */
  tryAcquire(ip: string): boolean {
    const key = clientKey(ip);
    const n = this.#perIp.get(key) ?? 0;
    if (this.#total >= this.maxTotal || n >= this.maxPerIp) return false;
    this.#total++;
    this.#perIp.set(key, n + 1);
    return true;
  }

  /** Whether `ip` (its /64 for IPv6) is at its own limit (eviction does not help then). */
  isIpFull(ip: string): boolean { return (this.#perIp.get(clientKey(ip)) ?? 0) >= this.maxPerIp; }

  /** Which cap refuses `ip` now; null: neither. */
  refusal(ip: string): LimitReason | null {
    if (this.isIpFull(ip)) return 'per-ip';
    return this.#total >= this.maxTotal ? 'total' : null;
  }

  /** Gives back a slot taken by tryAcquire (once per slot). */
  release(ip: string): void {
    const key = clientKey(ip);
    this.#total--;
    const n = (this.#perIp.get(key) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(key);
    else this.#perIp.set(key, n);
  }

  get total(): number { return this.#total; }
  /** Client addresses (IPv6: /64s) with a connection open. */
  get addresses(): number { return this.#perIp.size; }
}
