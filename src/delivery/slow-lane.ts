// The slow lane (thirtieth session): the scheduler's accounting of attempts by age, so that
// destinations which hold their sessions open cannot starve fresh mail. An attempt counts against
// delivery.concurrency (the "fast" lane) until it has run delivery.slowAttemptAfter; then it is
// "overdue" and moves, while there is room, into the slow lane, capped by delivery.maxSlowAttempts,
// where it no longer counts against concurrency. An overdue attempt that finds the slow lane full
// keeps its fast slot until a slow one ends (oldest first), so the relay never has more than
// concurrency + maxSlowAttempts attempts (and sockets of them) at once. As Postfix's advice to give
// problem destinations a transport of their own (its own process limit), made dynamic.
// While a destination has overdue or slow attempts, a new attempt to it starts only while fewer
// than delivery.slowDestinationConnections of its attempts count against concurrency (young or
// overdue; Postfix lowers a troubled destination's concurrency alike), so one hostile domain
// cannot recycle fast slots, nor pile overdue attempts into them while the slow lane is full.
// Slow destinations are remembered (thirty-first session, delivery.slowMemory): a destination one
// of whose attempts crossed the threshold is kept, per node, for delivery.slowMemory.ttl after its
// last slow attempt (at most delivery.slowMemory.destinations, the least recently slow dropped
// first); a new attempt to a remembered destination starts in the slow lane when it has room, so a
// hostile domain's retries do not hold a normal slot for their first slowAttemptAfter again; when
// the slow lane is full, a remembered destination is limited as one with slow attempts is. Any
// attempt to it that ends within the threshold (the destination answered fast) forgets it.
// The scheduler owns this state (it calls begin/end around each job and asks fast/admits); cheap on
// the hot path: per attempt one small object, a clock read and a Set entry (and, while some
// destination is remembered, a Map look-up at its admission and at its start, a delete at its end,
// and per claim round a walk of the smaller of the running and remembered destinations); one interval
// for all attempts (while any run) marks those past the threshold, walking from the oldest and
// stopping at the first young one; no timer or listener per attempt.
import type { Clock } from '../clock.js';

export type Lane = 'fast' | 'overdue' | 'slow';

const NONE: readonly string[] = Object.freeze([]);

/** One running attempt as the lanes see it. */
export class LaneEntry {
  /** fast: young; overdue: past the threshold, slow lane full (still counted as fast); slow: in the slow lane (crossed, or started there: remembered). */
  lane: Lane = 'fast';
  constructor(readonly destination: string, readonly startedAt: number) {}
}

/** delivery.slowMemory. */
export interface SlowMemoryOptions {
  /** Destinations remembered at most (0: none). */
  destinations: number;
  /** How long after its last slow evidence a destination is remembered (ms). */
  ttlMs: number;
}

export interface SlowLaneOptions {
  clock: Clock;
  /** delivery.slowAttemptAfter. */
  slowAfterMs: number;
  /** delivery.maxSlowAttempts (0: no slow lane; attempts past the threshold keep their fast slot). */
  maxSlow: number;
  /** delivery.slowDestinationConnections. */
  perSlowDestination: number;
  /** delivery.slowMemory; absent: nothing remembered. */
  memory?: SlowMemoryOptions;
  /** A remembered destination was forgotten: an attempt to it ended within the threshold (log). */
  onForgotten?(destination: string): void;
  /**
   * A sweep found attempts past the threshold (`crossed`, now overdue or slow) and moved some into
   * the slow lane (`moved`, which freed as many fast slots): start waiting work, claim again.
   */
  onSwept(crossed: readonly LaneEntry[], moved: readonly LaneEntry[]): void;
}

export class SlowLane {
  readonly #o: SlowLaneOptions;
  /** Fast-lane attempts, in start order (the sweep walks from the oldest). */
  readonly #young = new Set<LaneEntry>();
  /** Overdue attempts waiting for room in the slow lane, oldest crossing first. */
  readonly #overdue = new Set<LaneEntry>();
  /** Per destination that has overdue or slow attempts: how many (n), and how many of them in the slow lane. */
  readonly #slowOf = new Map<string, { n: number; slow: number }>();
  /**
   * Destinations remembered as slow → until when (ms), least recently slow first (a refresh moves
   * one to the end), at most memory.destinations; an expired one is dropped when looked up or
   * when it reaches the front as another is added.
   */
  readonly #remembered = new Map<string, number>();
  readonly #memMax: number;
  readonly #memTtl: number;
  #slow = 0;
  #running = 0;
  #sweep: NodeJS.Timeout | null = null;
  readonly #sweepMs: number;

  constructor(o: SlowLaneOptions) {
    this.#o = o;
    this.#sweepMs = SlowLane.sweepFor(o.slowAfterMs);
    this.#memMax = o.memory?.destinations ?? 0;
    this.#memTtl = o.memory?.ttlMs ?? 0;
  }

  /** Sweep interval: a quarter of the threshold, between 20 ms and 1 s (an attempt moves at most this late). */
  static sweepFor(slowAfterMs: number): number {
    return Math.max(20, Math.min(1000, Math.floor(slowAfterMs / 4)));
  }

  /** Attempts that count against delivery.concurrency (fast and overdue). */
  get fast(): number { return this.#running - this.#slow; }
  /** Attempts in the slow lane. */
  get slow(): number { return this.#slow; }
  /** Attempts running (every lane). */
  get running(): number { return this.#running; }
  /** Overdue or slow attempts of `destination`. */
  slowOf(destination: string): number { return this.#slowOf.get(destination)?.n ?? 0; }
  /** Destinations remembered as slow now (expired ones at the front dropped first). */
  get rememberedCount(): number {
    const now = this.#remembered.size > 0 ? this.#o.clock.now() : 0;
    for (const [d, until] of this.#remembered) { if (until > now) break; this.#remembered.delete(d); }
    return this.#remembered.size;
  }

  /** Whether `destination` is remembered as slow now (an expired entry is dropped); the clock is read only for one found. */
  isRemembered(destination: string, now?: number): boolean {
    const until = this.#remembered.get(destination);
    if (until === undefined) return false;
    if (until > (now ?? this.#o.clock.now())) return true;
    this.#remembered.delete(destination);
    return false;
  }

  /**
   * An attempt to `destination` starts: in the fast lane, or in the slow lane when the destination
   * is remembered as slow and the slow lane has room.
   */
  begin(destination: string): LaneEntry {
    const now = this.#o.clock.now();
    const e = new LaneEntry(destination, now);
    this.#running++;
    if (this.#remembered.size > 0 && this.#slow < this.#o.maxSlow && this.isRemembered(destination, now)) {
      e.lane = 'slow';
      this.#slow++;
      const of = this.#slowOf.get(destination);
      if (of) { of.n++; of.slow++; } else this.#slowOf.set(destination, { n: 1, slow: 1 });
    } else {
      this.#young.add(e);
    }
    if (this.#sweep === null) {
      this.#sweep = setInterval(() => this.sweep(), this.#sweepMs);
      this.#sweep.unref();
    }
    return e;
  }

  /** The attempt ended (whatever its outcome); true when its slow-lane place went to an overdue one (a fast slot freed). */
  end(e: LaneEntry): boolean {
    this.#running--;
    if (e.lane === 'fast') {
      this.#young.delete(e);
      // Ended within the threshold: the destination answered fast (it is remembered again if it stalls again).
      if (this.#remembered.size > 0 && this.#remembered.delete(e.destination)) this.#o.onForgotten?.(e.destination);
      return false;
    }
    const of = this.#slowOf.get(e.destination)!;
    if (--of.n === 0) this.#slowOf.delete(e.destination);
    // The last slow evidence is the end of a slow attempt: remembered for the ttl from now. One
    // that ended within the threshold (it started in the slow lane, remembered) answered fast: forgotten.
    const now = this.#o.clock.now();
    if (now - e.startedAt < this.#o.slowAfterMs) {
      if (this.#remembered.delete(e.destination)) this.#o.onForgotten?.(e.destination);
    } else {
      this.remember(e.destination, now);
    }
    if (e.lane === 'overdue') { this.#overdue.delete(e); return false; }
    of.slow--;
    this.#slow--;
    return this.#promote().length > 0;
  }

  /** Remember `destination` as slow until now + ttl (least recently slow dropped first, expired ones as they come up). */
  remember(destination: string, now: number): void {
    if (this.#memMax === 0) return;
    this.#remembered.delete(destination); // re-added at the end: the most recently slow
    for (const [d, until] of this.#remembered) { // the oldest first: drop expired ones, and the oldest while full
      if (until > now && this.#remembered.size < this.#memMax) break;
      this.#remembered.delete(d);
    }
    this.#remembered.set(destination, now + this.#memTtl);
  }

  /**
   * Whether a new attempt to `destination`, which has `running` attempts now (every lane), may
   * start: always, unless it has overdue or slow ones or is remembered as slow; then only while
   * fewer than slowDestinationConnections of its attempts count against concurrency (young or overdue).
   */
  admits(destination: string, running: number): boolean {
    if (this.#slowOf.size === 0 && this.#remembered.size === 0) return true;
    const of = this.#slowOf.get(destination);
    // A remembered destination is limited alike: its new attempt starts in the slow lane while that
    // has room (not counted: admitted again), else in the fast lane (counted: then no more); its
    // attempts begun before it was remembered count until they cross.
    if (of === undefined && !(this.#remembered.size > 0 && this.isRemembered(destination))) return true;
    return running - (of?.slow ?? 0) < this.#o.perSlowDestination;
  }

  /** Destinations no new attempt may start for (admits false), given the running attempts per destination. */
  limited(running: ReadonlyMap<string, number>): readonly string[] {
    if (this.#slowOf.size === 0 && this.#remembered.size === 0) return NONE;
    const per = this.#o.perSlowDestination;
    const out: string[] = [];
    // (each walk makes a Map iterator, ~3,000 instructions unoptimised: bench/README.md thirty-first
    // session; so an empty one is skipped, and the walk below takes the smaller map)
    if (this.#slowOf.size > 0) for (const dest of this.#slowOf.keys()) if ((running.get(dest) ?? 0) - this.#slowOf.get(dest)!.slow >= per) out.push(dest);
    if (this.#remembered.size === 0) return out;
    // And remembered destinations without slow attempts whose attempts (all counted) reach the
    // limit: found by walking the smaller of the running and the remembered destinations.
    if (running.size <= this.#remembered.size) {
      for (const dest of running.keys()) if (running.get(dest)! >= per && !this.#slowOf.has(dest) && this.isRemembered(dest)) out.push(dest);
    } else {
      for (const dest of this.#remembered.keys()) {
        const n = running.get(dest);
        if (n !== undefined && n >= per && !this.#slowOf.has(dest) && this.isRemembered(dest)) out.push(dest);
      }
    }
    return out;
  }

  /** Mark attempts past the threshold and move what fits into the slow lane (the interval's work; tests call it). */
  sweep(): void {
    if (this.#running === 0) { // idle: stop sweeping until the next attempt
      this.close();
      return;
    }
    const cutoff = this.#o.clock.now() - this.#o.slowAfterMs;
    let crossed: LaneEntry[] | null = null;
    for (const e of this.#young) {
      if (e.startedAt > cutoff) break; // started in order: the rest are younger
      this.#young.delete(e);
      e.lane = 'overdue';
      this.#overdue.add(e);
      const of = this.#slowOf.get(e.destination);
      if (of) of.n++; else this.#slowOf.set(e.destination, { n: 1, slow: 0 });
      (crossed ??= []).push(e);
    }
    if (crossed === null) return;
    const now = cutoff + this.#o.slowAfterMs;
    for (const e of crossed) this.remember(e.destination, now);
    this.#o.onSwept(crossed, this.#promote());
  }

  /** Stop the interval (the scheduler's stop; restarted by the next begin). */
  close(): void {
    if (this.#sweep !== null) clearInterval(this.#sweep);
    this.#sweep = null;
  }

  /** Overdue attempts into the slow lane while it has room, oldest first. */
  #promote(): LaneEntry[] {
    const moved: LaneEntry[] = [];
    for (const e of this.#overdue) {
      if (this.#slow >= this.#o.maxSlow) break;
      this.#overdue.delete(e);
      e.lane = 'slow';
      this.#slow++;
      this.#slowOf.get(e.destination)!.slow++;
      moved.push(e);
    }
    return moved;
  }
}
