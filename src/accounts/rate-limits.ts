// Owns changing a set of rate limits (an account's plan, an SMTP user's or a key's own limits),
// the one rule of `postlane accounts|users limits` and PATCH /v1/accounts/:name and
// /v1/smtp-users/:name: the windows named in a change take the new value, null clears one
// (unlimited), the windows not named stay as they were.
import type { RateLimits } from '../store/platform-store.js';

export const LIMIT_KEYS = ['perSecond', 'perHour', 'perDay', 'perMonth'] as const;
export type LimitKey = (typeof LIMIT_KEYS)[number];

/** Only the windows to change: a number, or null to clear. */
export type LimitsChange = Partial<Record<LimitKey, number | null>>;

/** `current` with the named windows replaced; cleared windows are dropped. */
export function mergeLimits(current: RateLimits, change: LimitsChange): RateLimits {
  const out: RateLimits = {};
  for (const key of LIMIT_KEYS) {
    const v = key in change ? change[key] : current[key];
    if (v !== null && v !== undefined) out[key] = v;
  }
  return out;
}
