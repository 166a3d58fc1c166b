// Owns the warmup schedules as data: the stock schedule shipped with Postlane and the pure
// function that reads a schedule (day N of a source's warmup → at most X messages per mailbox
// provider that day, or no cap once the source is warm). Config-defined schedules
// (egress.warmupSchedules) have the same shape. The counting lives in the store (source-store.ts).

export interface WarmupStep { day: number; perProvider: number }
export type WarmupSchedule = readonly WarmupStep[];

/**
 * The stock schedule: about doubling every day or two for three weeks, the pace the big providers'
 * sender guidance and the ESPs' published warmup plans describe. Day 22 on: warm.
 */
export const STOCK_SCHEDULE: WarmupSchedule = Object.freeze([
  { day: 1, perProvider: 50 }, { day: 2, perProvider: 100 }, { day: 3, perProvider: 200 }, { day: 4, perProvider: 400 },
  { day: 5, perProvider: 700 }, { day: 6, perProvider: 1_000 }, { day: 7, perProvider: 1_500 }, { day: 8, perProvider: 2_000 },
  { day: 9, perProvider: 3_000 }, { day: 10, perProvider: 4_000 }, { day: 11, perProvider: 5_000 }, { day: 12, perProvider: 7_500 },
  { day: 13, perProvider: 10_000 }, { day: 14, perProvider: 15_000 }, { day: 15, perProvider: 20_000 }, { day: 16, perProvider: 30_000 },
  { day: 17, perProvider: 40_000 }, { day: 18, perProvider: 50_000 }, { day: 19, perProvider: 75_000 }, { day: 20, perProvider: 100_000 },
  { day: 21, perProvider: 150_000 },
].map((s) => Object.freeze(s)));

export const DAY_MS = 86_400_000;

/** ms at 00:00 UTC of a "YYYY-MM-DD" day (validated by the config schema). */
export const dayStart = (day: string): number => Date.parse(`${day}T00:00:00Z`);

/** The UTC day number (days since 1970-01-01) of a time: the key warmup counts are kept under. */
export const utcDay = (ms: number): number => Math.floor(ms / DAY_MS);

/** Day 1 is the start day; 0 or less: the warmup has not begun. */
export const warmupDay = (start: string, now: number): number => utcDay(now) - utcDay(dayStart(start)) + 1;

/**
 * The cap of `day` under `schedule`: the last step at or before it; 0 before day 1 (nothing
 * goes out before the warmup starts); null past the last step (warm).
 */
export function capOf(schedule: WarmupSchedule, day: number): number | null {
  if (day < 1) return 0;
  const last = schedule[schedule.length - 1];
  if (!last || day > last.day) return null;
  let cap = 0;
  for (const s of schedule) if (s.day <= day) cap = s.perProvider;
  return cap;
}
