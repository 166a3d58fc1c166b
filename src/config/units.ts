// Owns the human-written quantities of the config: durations ("5m", "5d") and sizes ("25MB"),
// parsed into milliseconds and bytes, and formatted back (`postlane config` prints them as an
// operator writes them). Pure functions; every config key with a unit goes through here, and
// format → parse gives back the same number.

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000,
};

/** "1h30m", "5d", "250ms", "90" (seconds) → milliseconds; null when malformed. */
export function parseDurationMs(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : null;
  const text = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) return null;
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === text.length && consumed > 0 ? Math.round(total) : null;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

/** "25MB", "512k", 1000 (bytes) → bytes (binary multiples); null when malformed. */
export function parseSizeBytes(input: string | number): number | null {
  if (typeof input === 'number') return Number.isInteger(input) && input >= 0 ? input : null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  if (!m) return null;
  const unit = (m[2] || 'b').toLowerCase();
  const mult = SIZE_UNITS[unit];
  return mult === undefined ? null : Math.floor(Number(m[1]) * mult);
}

/** Largest first; weeks are left out so "7d" prints as written rather than as "1w". */
const DURATION_FORMAT_UNITS: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];

/** 432_000_000 → "5d", 5_400_000 → "1h30m", 250 → "250ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of DURATION_FORMAT_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) { out += `${n}${unit}`; rest -= n * size; }
  }
  return out || '0s';
}

const SIZE_FORMAT_UNITS: [string, number][] = [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]];

/** 26_214_400 → "25MB"; a size that is no whole multiple of a unit stays in bytes ("1000B"). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of SIZE_FORMAT_UNITS) if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes}B`;
}
