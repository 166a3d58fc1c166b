// The --per-second/--per-hour/--per-day/--per-month options shared by `accounts`, `keys` and
// `users`: parsing (a non-negative integer, or `none` to clear), merging into the limits already
// set (accounts/rate-limits.ts), and their display with the current usage (store.quotaUsage).
import type { Command } from 'commander';
import { windowsFor } from '../accounts/quota.js';
import { RelayError } from '../errors.js';
import type { PlatformStore, RateLimits } from '../store/platform-store.js';
import type { LimitKey, LimitsChange } from '../accounts/rate-limits.js';

export { mergeLimits } from '../accounts/rate-limits.js';

const FLAGS = [
  ['perSecond', '--per-second <n>', 'second'],
  ['perHour', '--per-hour <n>', 'hour'],
  ['perDay', '--per-day <n>', 'day'],
  ['perMonth', '--per-month <n>', 'month'],
] as const satisfies readonly (readonly [LimitKey, string, string])[];

export type LimitOptions = Partial<Record<LimitKey, string>>;

/** Adds the four options; `none` clears a window where a limit may already be set. */
export function addLimitOptions(cmd: Command, what: string): Command {
  for (const [, flag, window] of FLAGS) cmd.option(flag, `${what}: recipients per ${window} (UTC${window === 'month' ? ' calendar month' : ''}); none = unlimited`);
  return cmd;
}

function parseLimit(flag: string, value: string): number | null {
  if (value === 'none') return null;
  if (!/^\d{1,12}$/.test(value)) throw new RelayError('ERR_USAGE', `${flag} takes a whole number of recipients or "none", not "${value}"`);
  return Number(value);
}

/** Only the windows named on the command line: a number, or null for `none`. */
export function limitsFrom(opts: LimitOptions): LimitsChange {
  const out: LimitsChange = {};
  for (const [key, flag] of FLAGS) {
    const v = opts[key];
    if (v !== undefined) out[key] = parseLimit(flag.split(' ')[0]!, v);
  }
  return out;
}

export const hasAnyLimitOption = (opts: LimitOptions): boolean => FLAGS.some(([key]) => opts[key] !== undefined);

/** "10/second 1000/day", or "unlimited". */
export function formatLimits(limits: RateLimits): string {
  const parts = FLAGS.flatMap(([key, , window]) => (limits[key] !== null && limits[key] !== undefined ? [`${limits[key]}/${window}`] : []));
  return parts.length ? parts.join(' ') : 'unlimited';
}

export interface WindowUsage { window: string; limit: number; used: number; resetsAt: string }

/** The current count of each limited window of a subject ('account:acme', 'user:app', 'key:<id>'). */
export async function usageOf(store: Pick<PlatformStore, 'quotaUsage'>, subject: string, limits: RateLimits, now: number): Promise<WindowUsage[]> {
  const windows = windowsFor(subject, limits, now);
  if (windows.length === 0) return [];
  const counts = await store.quotaUsage(windows);
  return windows.map((w, i) => ({ window: w.window, limit: w.limit, used: counts[i] ?? 0, resetsAt: new Date(w.windowEnd).toISOString() }));
}

/** "3/10 per second, 120/1000 per day", or "-". */
export const formatUsage = (usage: WindowUsage[]): string =>
  usage.length ? usage.map((u) => `${u.used}/${u.limit} per ${u.window}`).join(', ') : '-';
