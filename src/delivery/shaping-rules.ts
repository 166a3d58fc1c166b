// Owns the traffic-shaping rules as data (issue 11): the stock limits of the big mailbox providers,
// and how the configuration (shaping.providers, shaping.overrides) changes them per provider, per
// egress pool and per account. Pure: (config, provider, pool, account) → the effective limits.
// A provider with no stock rule and no configured one is not shaped: delivery.maxConnectionsPerDestination
// and delivery.maxMessagesPerConnection apply per recipient domain, as without shaping.
// The stock numbers are conservative starting points for one egress IP, after the providers'
// postmaster pages and common operator practice; they are not the providers' published limits
// (they publish none), and the adaptive actions (throttle-actions.ts) correct them at run time.
import type { Config } from '../config/schema.js';

export interface ShapingLimits {
  /** Simultaneous SMTP sessions to the provider per egress source, over the cluster. */
  maxConnections: number | null;
  /** Then the session is closed and a new one opened. */
  messagesPerConnection: number | null;
  perSecond: number | null;
  perMinute: number | null;
  perHour: number | null;
}

export type ShapingRule = ShapingLimits & { provider: string };

const limits = (maxConnections: number, messagesPerConnection: number, perMinute: number, perHour: number): ShapingLimits =>
  ({ maxConnections, messagesPerConnection, perSecond: null, perMinute, perHour });

/** Stock limits per provider and egress source (provider names as in providers.ts). */
export const STOCK_SHAPING: Readonly<Record<string, ShapingLimits>> = {
  gmail: limits(10, 50, 1000, 30_000),
  microsoft: limits(10, 100, 600, 20_000),
  yahoo: limits(5, 20, 300, 10_000),
  apple: limits(5, 50, 300, 10_000),
  gmx: limits(4, 50, 200, 6_000),
  mailru: limits(5, 50, 300, 10_000),
  yandex: limits(5, 50, 300, 10_000),
};

export type ShapingConfig = Config['shaping'];

const FIELDS = ['maxConnections', 'messagesPerConnection', 'perSecond', 'perMinute', 'perHour'] as const;

/** Fields that are set (not undefined) in a partial rule, over `base`. */
function overlay(base: ShapingLimits, part: Partial<ShapingLimits>): ShapingLimits {
  const out = { ...base };
  for (const f of FIELDS) if (part[f] !== undefined) out[f] = part[f]!;
  return out;
}

const NONE: ShapingLimits = { maxConnections: null, messagesPerConnection: null, perSecond: null, perMinute: null, perHour: null };

/** Whether `provider` is shaped at all (a stock rule, a configured one, or an override naming it). */
export function isShaped(cfg: ShapingConfig, provider: string): boolean {
  return cfg.enabled && (provider in STOCK_SHAPING || provider in cfg.providers || cfg.overrides.some((o) => o.provider === provider));
}

/**
 * The limits for one provider, egress pool and account: stock ← shaping.providers[provider] ←
 * every matching shaping.overrides entry in order (an entry matches when each of its provider,
 * pool and account is absent or equal). null: not shaped.
 */
export function effectiveLimits(cfg: ShapingConfig, provider: string, pool = 'default', account?: string): ShapingLimits | null {
  if (!isShaped(cfg, provider)) return null;
  let out = overlay(STOCK_SHAPING[provider] ?? NONE, cfg.providers[provider] ?? {});
  for (const o of cfg.overrides) {
    if (o.provider !== undefined && o.provider !== provider) continue;
    if (o.pool !== undefined && o.pool !== pool) continue;
    if (o.account !== undefined && o.account !== account) continue;
    out = overlay(out, o);
  }
  return out;
}

/** Every shaped provider's effective limits for the default pool and no particular account (`postlane config`). */
export function effectiveRules(cfg: ShapingConfig, pool = 'default'): ShapingRule[] {
  const names = new Set([...Object.keys(STOCK_SHAPING), ...Object.keys(cfg.providers), ...cfg.overrides.flatMap((o) => (o.provider ? [o.provider] : []))]);
  return [...names].sort().flatMap((provider) => {
    const l = effectiveLimits(cfg, provider, pool);
    return l ? [{ provider, ...l }] : [];
  });
}
