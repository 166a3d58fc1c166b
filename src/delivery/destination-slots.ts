// The cluster-wide half of the per-destination limit (delivery.maxConnectionsPerDestination): the
// destination slots this node holds. Slots are leased in the queue store (shared by every node on
// PostgreSQL, in process on SQLite), acquired in one batch per claim round for what claimed jobs
// need, renewed together every leaseTime/3 while held (never two renewals at once: on a slow store
// they would overlap, and identical multi-row UPDATEs deadlock), and released when neither a running job
// nor an open connection of this node needs them. A dead node's slots expire with its leases.
// The scheduler decides how many it needs; this class only keeps the books and talks to the store.
import type { Clock } from '../clock.js';
import type { Logger } from '../events/log.js';
import type { DestinationSlot, QueueStore } from '../store/store.js';

type SlotStore = Pick<QueueStore, 'acquireDestinationSlots' | 'renewDestinationSlots' | 'releaseDestinationSlots'>;

export interface DestinationSlotsOptions {
  store: SlotStore;
  owner: string;
  /** Slots per destination over the whole cluster (a function: per destination, e.g. a shaped provider's cap). */
  limit: number | ((destination: string) => number);
  leaseMs: number;
  /** After an acquire came back short, the destination counts as full (not claimed for) this long. */
  fullBackoffMs: number;
  clock: Clock;
  logger: Logger;
}

export class DestinationSlots {
  readonly #o: DestinationSlotsOptions;
  /** destination → slot numbers held. */
  readonly #held = new Map<string, number[]>();
  /** destination → until when another node holds all its slots (as far as we know). */
  readonly #fullUntil = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  /** A renewal is in flight: the next tick skips (a slow store; overlapping renewals deadlock on PostgreSQL). */
  #renewing = false;
  /** Releases not yet committed: an acquire waits for them, or it would find our own freed slots still taken. */
  #releasing: Promise<unknown> = Promise.resolve();

  constructor(opts: DestinationSlotsOptions) { this.#o = opts; }

  held(destination: string): number { return this.#held.get(destination)?.length ?? 0; }

  /** The cluster-wide slot count of a destination. */
  limitOf(destination: string): number {
    return typeof this.#o.limit === 'number' ? this.#o.limit : this.#o.limit(destination);
  }

  /** Every slot of the destination was taken (by other nodes) at the last try, recently. */
  isFull(destination: string): boolean {
    const until = this.#fullUntil.get(destination);
    if (until === undefined) return false;
    if (until > this.#o.clock.now()) return true;
    this.#fullUntil.delete(destination);
    return false;
  }

  /** Destinations marked full (see isFull). */
  fullDestinations(): string[] { return [...this.#fullUntil.keys()].filter((d) => this.isFull(d)); }

  /** One store call for every destination's extra slots; a destination that got fewer is marked full. */
  async acquire(wants: Map<string, number>): Promise<void> {
    const requests = [...wants].filter(([d, n]) => n > 0 && !this.isFull(d)).map(([destination, want]) => ({ destination, want }));
    if (requests.length === 0) return;
    await this.#releasing;
    const now = this.#o.clock.now();
    const byLimit = new Map<number, typeof requests>();
    for (const r of requests) {
      const limit = this.limitOf(r.destination);
      byLimit.set(limit, [...(byLimit.get(limit) ?? []), r]);
    }
    let granted: DestinationSlot[] = [];
    try {
      for (const [limit, group] of byLimit) { // one store call per distinct limit (usually one)
        granted = granted.concat(await this.#o.store.acquireDestinationSlots({ owner: this.#o.owner, requests: group, limit, now, leaseMs: this.#o.leaseMs }));
      }
    } catch (err) {
      this.#o.logger.warn({ event: 'delivery.slots_failed', op: 'acquire', err }, 'could not acquire destination slots');
    }
    for (const g of granted) this.#held.set(g.destination, [...(this.#held.get(g.destination) ?? []), g.slot]);
    for (const r of requests) {
      const got = granted.filter((g) => g.destination === r.destination).length;
      if (got < r.want) this.#fullUntil.set(r.destination, now + this.#o.fullBackoffMs);
    }
    this.#ensureRenewal();
  }

  /** Give back what the destination holds beyond `needed` (off the books now; in the store shortly). */
  releaseSurplus(destination: string, needed: number): void {
    const slots = this.#held.get(destination);
    if (!slots || slots.length <= needed) return;
    const freed = slots.splice(Math.max(needed, 0));
    if (slots.length === 0) this.#held.delete(destination);
    this.#fullUntil.delete(destination);
    const release = this.#o.store.releaseDestinationSlots(this.#o.owner, freed.map((slot) => ({ destination, slot }))).catch((err: unknown) =>
      this.#o.logger.warn({ event: 'delivery.slots_failed', op: 'release', destination, err }, 'could not release destination slots; they expire with their lease'));
    this.#releasing = Promise.all([this.#releasing, release]);
  }

  /** Stop renewing; release every slot this node holds. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#held.clear();
    await this.#releasing;
    try {
      await this.#o.store.releaseDestinationSlots(this.#o.owner);
    } catch (err) {
      this.#o.logger.warn({ event: 'delivery.slots_failed', op: 'release', err }, 'could not release destination slots; they expire with their lease');
    }
  }

  #ensureRenewal(): void {
    if (this.#timer || this.#held.size === 0) return;
    this.#timer = setInterval(() => {
      if (this.#renewing) return;
      this.#renewing = true;
      void this.#renew().finally(() => { this.#renewing = false; });
    }, Math.max(Math.floor(this.#o.leaseMs / 3), 50));
    this.#timer.unref();
  }

  /** Extend every held slot; forget the ones the store says we lost (expired and taken while unrenewed). */
  async #renew(): Promise<void> {
    if (this.#held.size === 0) {
      if (this.#timer) clearInterval(this.#timer);
      this.#timer = null;
      return;
    }
    const before = new Set([...this.#held].flatMap(([d, slots]) => slots.map((s) => `${d}\u0000${s}`)));
    let still: DestinationSlot[];
    try {
      still = await this.#o.store.renewDestinationSlots({ owner: this.#o.owner, now: this.#o.clock.now(), leaseMs: this.#o.leaseMs });
    } catch (err) {
      this.#o.logger.warn({ event: 'delivery.slots_failed', op: 'renew', err }, 'could not renew destination slots');
      return;
    }
    const kept = new Set(still.map((s) => `${s.destination}\u0000${s.slot}`));
    for (const [destination, slots] of this.#held) {
      const lost = slots.filter((s) => before.has(`${destination}\u0000${s}`) && !kept.has(`${destination}\u0000${s}`));
      if (lost.length === 0) continue;
      this.#o.logger.warn({ event: 'delivery.slots_lost', destination, slots: lost }, 'destination slots expired before renewal; fewer connections until they are regained');
      const left = slots.filter((s) => !lost.includes(s));
      if (left.length > 0) this.#held.set(destination, left); else this.#held.delete(destination);
    }
  }
}
