// Owns the run-time throttle state of traffic shaping (issue 11), keyed by (provider, egress
// source): the token buckets of each rate (per second/minute/hour), each account's share of them
// while accounts compete, the suspension (until when, why) and the scale factor that the adaptive
// actions (throttle-actions.ts) set from remote replies and that recovers gradually. The
// scheduler asks `admit` before starting a job and tells `observe` each reply; nothing here sends
// mail or touches the queue. Logs `shaping.suspended`, `shaping.scaled_down` and `shaping.resumed`.
// The egress source of a job is the one egress.ts gives it its turn on (Egress.sourceFor).
import type { Clock } from '../clock.js';
import type { Logger } from '../events/log.js';
import { effectiveLimits, isShaped, type ShapingConfig, type ShapingLimits } from './shaping-rules.js';
import { throttleActionFor, type ThrottleAction } from './throttle-actions.js';
import { TokenBucket } from './token-bucket.js';


const MIN_SCALE = 0.05;
/** An account counts as competing for a provider while it sent there within this window. */
const ACTIVE_MS = 60_000;

interface Buckets { second?: TokenBucket; minute?: TokenBucket; hour?: TokenBucket }

interface ThrottleState {
  provider: string;
  source: string;
  suspendedUntil: number | null;
  reason: string | null;
  scale: number;
  lastThrottleAt: number;
  lastRecoverAt: number;
  buckets: Buckets;
  accounts: Map<string, { lastSeen: number; buckets: Buckets }>;
  sent: number[];
}

export type Admission = { ok: true } | { ok: false; until: number; reason: string };

/** What `queue list --by provider` shows per (provider, source). */
export interface ThrottleView {
  provider: string; source: string; scale: number; suspendedUntil: number | null; reason: string | null;
  /** Messages started in the last minute on this node. */
  ratePerMinute: number; limits: ShapingLimits | null;
}

export interface ShaperOptions {
  config: ShapingConfig; clock: Clock; logger: Logger;
  /** A suspension began here (the scheduler shares it through the store with the other nodes). */
  onSuspended?: (s: { provider: string; source: string; until: number; reason: string; at: number }) => void;
}

export class Shaper {
  readonly #o: ShaperOptions;
  readonly #states = new Map<string, ThrottleState>();
  readonly #actions: ThrottleAction[];

  constructor(o: ShaperOptions) {
    this.#o = o;
    this.#actions = o.config.actions.map((a) => ({ name: a.name, pattern: new RegExp(a.match, 'i'), suspendMs: a.suspend, scale: a.scale }));
  }

  get enabled(): boolean { return this.#o.config.enabled; }
  isShaped(provider: string): boolean { return isShaped(this.#o.config, provider); }

  /** The provider's connection cap for this source, scaled down while it recovers; null: not shaped. */
  maxConnections(provider: string, source: string): number | null {
    const max = effectiveLimits(this.#o.config, provider)?.maxConnections ?? null;
    if (max === null) return null;
    const s = this.#states.get(key(provider, source));
    return Math.max(1, Math.floor(max * (s ? this.#recovered(s, this.#o.clock.now()) : 1)));
  }

  messagesPerConnection(provider: string): number | null {
    return effectiveLimits(this.#o.config, provider)?.messagesPerConnection ?? null;
  }

  /** May a message for this provider, source and account start now? Takes its tokens if so. */
  admit(provider: string, source: string, account: string): Admission {
    if (!this.isShaped(provider)) return { ok: true };
    const now = this.#o.clock.now();
    const s = this.#state(provider, source, now);
    if (s.suspendedUntil !== null) {
      if (now < s.suspendedUntil) return { ok: false, until: s.suspendedUntil, reason: s.reason ?? 'suspended' };
      this.#resume(s, now);
    }
    const scale = this.#recovered(s, now);
    const own = this.#account(s, account, now, effectiveLimits(this.#o.config, provider, 'default', account)!);
    const competing = [...s.accounts.values()].filter((a) => now - a.lastSeen < ACTIVE_MS).length >= 2;
    const share = competing ? this.#o.config.accountShare : 1;
    const wait = Math.max(waitOf(s.buckets, now, scale), waitOf(own.buckets, now, scale * share));
    if (wait > 0) return { ok: false, until: now + wait, reason: competing ? 'rate (account share)' : 'rate' };
    takeFrom(s.buckets, now, scale);
    takeFrom(own.buckets, now, scale * share);
    own.lastSeen = now;
    s.sent.push(now);
    while (s.sent.length > 0 && s.sent[0]! <= now - 60_000) s.sent.shift();
    return { ok: true };
  }

  /** A remote reply for this provider and source: apply its throttle action, if it has one. */
  observe(provider: string, source: string, reply: string): ThrottleAction | null {
    if (!this.#o.config.enabled) return null;
    const action = throttleActionFor(reply, this.#actions);
    if (!action) return null;
    const now = this.#o.clock.now();
    const s = this.#state(provider, source, now);
    s.scale = Math.max(MIN_SCALE, this.#recovered(s, now) * action.scale);
    s.lastThrottleAt = now;
    s.lastRecoverAt = now;
    const suspendMs = Math.min(action.suspendMs, this.#o.config.maxSuspend);
    if (suspendMs > 0) {
      const until = now + suspendMs;
      if (s.suspendedUntil === null || until > s.suspendedUntil) {
        const began = !suspendedAt(s, now);
        s.suspendedUntil = until;
        s.reason = action.name;
        if (began) this.#o.logger.warn({ event: 'shaping.suspended', provider, source, until, action: action.name, scale: s.scale, reply }, 'provider throttled us: suspended');
        this.#o.onSuspended?.({ provider, source, until, reason: action.name, at: now });
      }
    } else {
      this.#o.logger.warn({ event: 'shaping.scaled_down', provider, source, action: action.name, scale: s.scale, reply }, 'provider throttled us: slowing down');
    }
    return action;
  }

  /** Suspensions another node recorded (the store's): adopted when they end later than ours. */
  adopt(suspensions: readonly { provider: string; source: string; until: number; reason: string }[]): void {
    const now = this.#o.clock.now();
    for (const x of suspensions) {
      if (x.until <= now || !this.isShaped(x.provider)) continue;
      const s = this.#state(x.provider, x.source, now);
      if (s.suspendedUntil !== null && s.suspendedUntil >= x.until) continue;
      if (!suspendedAt(s, now)) { // none, or ours ended and admit() has not seen it yet
        this.#o.logger.warn({ event: 'shaping.suspended', provider: x.provider, source: x.source, until: x.until, action: x.reason, shared: true }, 'provider suspended by another node');
      }
      s.suspendedUntil = x.until;
      s.reason = x.reason;
    }
  }

  /** Throttle state of every provider seen, for the queue views. */
  views(): ThrottleView[] {
    const now = this.#o.clock.now();
    return [...this.#states.values()].map((s) => ({
      provider: s.provider, source: s.source, scale: this.#recovered(s, now),
      suspendedUntil: s.suspendedUntil !== null && s.suspendedUntil > now ? s.suspendedUntil : null,
      reason: s.suspendedUntil !== null && s.suspendedUntil > now ? s.reason : (this.#recovered(s, now) < 1 ? s.reason : null),
      ratePerMinute: s.sent.filter((t) => t > now - 60_000).length,
      limits: effectiveLimits(this.#o.config, s.provider),
    }));
  }

  #state(provider: string, source: string, now: number): ThrottleState {
    const k = key(provider, source);
    let s = this.#states.get(k);
    if (!s) {
      const l = effectiveLimits(this.#o.config, provider);
      s = { provider, source, suspendedUntil: null, reason: null, scale: 1, lastThrottleAt: 0, lastRecoverAt: 0, buckets: l ? bucketsOf(l, now) : {}, accounts: new Map(), sent: [] };
      this.#states.set(k, s);
    }
    return s;
  }

  #account(s: ThrottleState, account: string, now: number, limits: ShapingLimits) {
    let a = s.accounts.get(account);
    if (!a) s.accounts.set(account, (a = { lastSeen: 0, buckets: bucketsOf(limits, now) }));
    for (const [name, other] of s.accounts) if (other !== a && now - other.lastSeen > 10 * ACTIVE_MS) s.accounts.delete(name);
    return a;
  }

  #resume(s: ThrottleState, now: number): void {
    this.#o.logger.info({ event: 'shaping.resumed', provider: s.provider, source: s.source, scale: s.scale, after: s.reason }, 'provider suspension over: resuming slowly');
    s.suspendedUntil = null;
    s.lastRecoverAt = now;
  }

  /** The scale after gradual recovery: +0.25 per shaping.recoverEvery without a throttle reply. */
  #recovered(s: ThrottleState, now: number): number {
    if (s.scale >= 1 || (s.suspendedUntil !== null && now < s.suspendedUntil)) return s.scale;
    const every = Math.max(1, this.#o.config.recoverEvery);
    const steps = Math.floor((now - s.lastRecoverAt) / every);
    if (steps > 0) {
      s.scale = Math.min(1, s.scale + 0.25 * steps);
      s.lastRecoverAt += steps * every;
      if (s.scale >= 1) s.reason = null;
    }
    return s.scale;
  }
}

const key = (provider: string, source: string) => `${provider}\u0000${source}`;
/** Held now: a suspension that has ended counts as none, though admit() has not resumed it yet. */
const suspendedAt = (s: ThrottleState, now: number) => s.suspendedUntil !== null && now < s.suspendedUntil;

function bucketsOf(l: ShapingLimits, now: number): Buckets {
  return {
    ...(l.perSecond ? { second: new TokenBucket(l.perSecond, 1000, now) } : {}),
    ...(l.perMinute ? { minute: new TokenBucket(l.perMinute, 60_000, now) } : {}),
    ...(l.perHour ? { hour: new TokenBucket(l.perHour, 3_600_000, now) } : {}),
  };
}

const each = (b: Buckets) => [b.second, b.minute, b.hour].filter((x): x is TokenBucket => x !== undefined);
const waitOf = (b: Buckets, now: number, factor: number) => Math.max(0, ...each(b).map((x) => x.waitMs(now, factor)));
const takeFrom = (b: Buckets, now: number, factor: number) => { for (const x of each(b)) x.take(now, factor); };
