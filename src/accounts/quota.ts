// Quotas and rate limits: which counter windows a submission charges, and the answer when one is
// full. Limits are set per account (its plan) and optionally per SMTP user or API key; each is
// counted in recipients over four windows (second, hour, day, calendar month, all UTC). The
// counters live in the store (store.consumeQuota, atomic), so they survive restarts and are shared
// by every node on one PostgreSQL database: the cluster never exceeds a limit, because a charge
// either fits every window or changes none. The margin is one-sided: recipients charged at RCPT
// whose transaction then fails are still counted (documented in docs/design/store.md).
//
// Windows are charged longest-reset first (month, day, hour, second; ties by key), so the window
// reported when several are full is the one that resets last (the honest Retry-After, and a full
// month answers permanently even while the second is also full), and every charge names its rows
// in one global order (no lock-order deadlock between concurrent charges on PostgreSQL).
//
// A counter row is identified by (key, windowStart) in the store, and windows of one subject can
// start at the same instant (the hour, day and month counters on the 1st at 00:00; the second and
// the hour at hh:00:00), so each counter key is qualified by its window: 'account:acme/day'.
import type { Clock } from '../clock.js';
import { AccountCache } from './account-cache.js';
import { reply, type Reply } from '../message/reply.js';
import type { PlatformStore, QuotaWindow, RateLimits } from '../store/platform-store.js';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A window that resets further away than this is treated as permanent (SMTP 5.7.1): no client queue waits that long. */
const PERMANENT_AFTER_MS = DAY;

export interface QuotaSubject {
  account: string;
  /** The SMTP user or API key charged besides the account, with its own limits. */
  principal?: { kind: 'user' | 'key'; id: string; limits: RateLimits };
}

export type QuotaDecision =
  | { ok: true }
  | {
    ok: false;
    /** Whose limit: 'account:acme', 'user:app', 'key:<id>'. */
    key: string;
    window: string;
    limit: number;
    /** ms until the window resets (HTTP Retry-After). */
    retryAfterMs: number;
    /**
     * Answer permanently (SMTP 550 5.7.1): the window resets more than a day away, or the charge
     * is larger than the limit itself (a limit of 0, or an HTTP batch with more recipients than
     * the limit), so no retry can succeed before an admin changes the limit.
     */
    permanent: boolean;
    /** The SMTP reply for the RCPT: 452 4.7.1 or 550 5.7.1. */
    reply: Reply;
  };

/** The counter windows of one limit set at `now`; `key` names the subject ('account:acme'), each counter key adds '/<window>'. */
export function windowsFor(key: string, limits: RateLimits, now: number): QuotaWindow[] {
  const out: QuotaWindow[] = [];
  const add = (window: string, start: number, end: number, limit: number | null | undefined) => {
    if (limit !== null && limit !== undefined) out.push({ key: `${key}/${window}`, window, windowStart: start, windowEnd: end, limit });
  };
  const sec = Math.floor(now / SECOND) * SECOND;
  const hour = Math.floor(now / HOUR) * HOUR;
  const day = Math.floor(now / DAY) * DAY;
  const d = new Date(now);
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const nextMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  add('second', sec, sec + SECOND, limits.perSecond);
  add('hour', hour, hour + HOUR, limits.perHour);
  add('day', day, day + DAY, limits.perDay);
  add('month', month, nextMonth, limits.perMonth);
  return out;
}

const hasLimits = (l: RateLimits | undefined) => !!l && (isSet(l.perSecond) || isSet(l.perHour) || isSet(l.perDay) || isSet(l.perMonth));
const isSet = (v: unknown) => v !== null && v !== undefined;
/** chargeNow's answer for an unmetered subject: one shared value (callers only read it). */
const UNMETERED = { ok: true } as const;

/** Longest reset first, then by key and window: the charge order (see the header). */
const chargeOrder = (a: QuotaWindow, b: QuotaWindow) =>
  b.windowEnd - a.windowEnd || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) || (a.window < b.window ? -1 : a.window > b.window ? 1 : 0);

const WHO: Record<string, string> = { account: 'Account', user: 'User', key: 'API key' };

/** The subject of a counter key: 'account:acme/day' → 'account:acme'. */
export function subjectOf(w: Pick<QuotaWindow, 'key'>): string {
  const slash = w.key.lastIndexOf('/');
  return slash < 0 ? w.key : w.key.slice(0, slash);
}

/** The refusal for a full window: 452 4.7.1 (retry later) or 550 5.7.1 (permanent). */
export function refusal(w: QuotaWindow, n: number, now: number): Exclude<QuotaDecision, { ok: true }> {
  const retryAfterMs = Math.max(0, w.windowEnd - now);
  const permanent = retryAfterMs > PERMANENT_AFTER_MS || n > w.limit;
  const key = subjectOf(w);
  const text = `${WHO[key.slice(0, key.indexOf(':'))] ?? 'Sender'} limit of ${w.limit} per ${w.window} reached`;
  return {
    ok: false, key, window: w.window, limit: w.limit, retryAfterMs, permanent,
    reply: permanent ? reply(550, '5.7.1', `${text}; sending refused`)
      : reply(452, '4.7.1', `${text}; try again in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`),
  };
}

type QuotaStore = Pick<PlatformStore, 'consumeQuota' | 'getAccount'>;

export class QuotaService {
  readonly #accounts: AccountCache;
  constructor(private readonly store: QuotaStore, private readonly clock: Clock, accounts?: AccountCache) {
    this.#accounts = accounts ?? new AccountCache(store, clock);
  }

  /**
   * Charge `n` recipients to the subject's account and principal. Unlimited subjects cost no
   * store call. A store failure propagates (callers answer 451 / 503: never send unmetered).
   */
  async charge(subject: QuotaSubject, n = 1): Promise<QuotaDecision> {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`quota charge must be a positive integer, got ${n}`);
    const now = this.clock.now();
    const accountLimits = await this.#accountLimits(subject.account);
    const p = subject.principal;
    const principalLimited = !!p && hasLimits(p.limits);
    if (!principalLimited && !hasLimits(accountLimits)) return { ok: true }; // no window to charge
    const windows = windowsFor(`account:${subject.account}`, accountLimits, now);
    if (principalLimited) windows.push(...windowsFor(`${p.kind}:${p.id}`, p.limits, now));
    if (windows.length === 0) return { ok: true };
    windows.sort(chargeOrder);
    const result = await this.store.consumeQuota(windows, n);
    return result.ok ? result : refusal(result.exceeded, n, now);
  }

  /**
   * charge()'s answer without waiting, when it needs neither a store call nor an account lookup:
   * the account was read less than ACCOUNT_CACHE_MS ago (the same cached value charge() would use)
   * and neither it nor the principal has any limit. undefined: call charge(). The SMTP session
   * asks this first at each RCPT (ingress/smtp/connection.ts): an unmetered recipient then costs
   * no promise chain.
   */
  chargeNow(subject: QuotaSubject): { ok: true } | undefined {
    const account = this.#accounts.fresh(subject.account);
    if (account === undefined) return undefined;
    if (hasLimits(account?.limits) || (!!subject.principal && hasLimits(subject.principal.limits))) return undefined;
    return UNMETERED;
  }

  /**
   * Whether charge() would meter this subject now (the account's limits as charge reads them, or
   * the principal's own): false lets a caller skip what only the charge needs.
   */
  async limited(subject: QuotaSubject): Promise<boolean> {
    return hasLimits(await this.#accountLimits(subject.account)) || (!!subject.principal && hasLimits(subject.principal.limits));
  }

  /** Limits of an account, cached a few seconds (the CLI may change them from another process). */
  async #accountLimits(account: string): Promise<RateLimits> {
    return (await this.#accounts.get(account))?.limits ?? {};
  }
}
