// Destination slots kept in this process's memory: the QueueStore slot methods for a store that
// only one relay process uses (the embedded SQLite queue). Same semantics as the PostgreSQL
// destination_slot table — leased slots 0..limit-1 per destination, expiry, renewal by owner —
// so the scheduler's logic and the contract tests are the same on both stores.
import type { AcquireSlotsOptions, DestinationSlot } from './store.js';

interface Lease { owner: string; until: number }

export class InProcessSlots {
  /** destination → slot number → lease (a released slot has no entry). */
  readonly #slots = new Map<string, Map<number, Lease>>();

  acquire(o: AcquireSlotsOptions): DestinationSlot[] {
    const granted: DestinationSlot[] = [];
    for (const [destination, want] of mergeRequests(o.requests)) {
      const leases = this.#slots.get(destination) ?? new Map<number, Lease>();
      let got = 0;
      for (let slot = 0; slot < o.limit && got < want; slot++) {
        const l = leases.get(slot);
        if (l && l.until >= o.now) continue;
        leases.set(slot, { owner: o.owner, until: o.now + o.leaseMs });
        granted.push({ destination, slot });
        got++;
      }
      if (leases.size > 0) this.#slots.set(destination, leases);
    }
    return granted;
  }

  renew(o: { owner: string; now: number; leaseMs: number }): DestinationSlot[] {
    const held: DestinationSlot[] = [];
    for (const [destination, leases] of this.#slots) {
      for (const [slot, l] of leases) {
        if (l.owner !== o.owner) continue;
        l.until = o.now + o.leaseMs;
        held.push({ destination, slot });
      }
    }
    return held;
  }

  release(owner: string, slots?: DestinationSlot[]): number {
    const which = slots ? new Set(slots.map((s) => `${s.destination.toLowerCase()}\u0000${s.slot}`)) : null;
    let freed = 0;
    for (const [destination, leases] of this.#slots) {
      for (const [slot, l] of leases) {
        if (l.owner !== owner || (which && !which.has(`${destination}\u0000${slot}`))) continue;
        leases.delete(slot);
        freed++;
      }
      if (leases.size === 0) this.#slots.delete(destination);
    }
    return freed;
  }
}

/** Lower-cased destinations with their summed, positive wants. */
export function mergeRequests(requests: AcquireSlotsOptions['requests']): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of requests) {
    if (!(r.want > 0)) continue;
    const d = r.destination.toLowerCase();
    out.set(d, (out.get(d) ?? 0) + Math.floor(r.want));
  }
  return out;
}
