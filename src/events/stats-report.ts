// Turns the store's counter groups (store/stats-store.ts) into the statistics answer shared by the
// API (GET /v1/stats) and the CLI (`postlane stats`): every count present (zero when none), the
// rates, and the provider grouping (domains rolled up by delivery/providers.ts).
import { providerOf } from '../delivery/providers.js';
import type { StatsRow } from '../store/stats-store.js';

export const COUNT_NAMES = [
  'accepted', 'delivered', 'deferred', 'bounced', 'bounced_hard', 'bounced_soft', 'bounced_block', 'failed', 'suppressed',
  'complained', 'unsubscribed', 'opened', 'opened_unique', 'opened_machine', 'clicked', 'clicked_unique', 'clicked_machine',
] as const;
export type Counts = Record<(typeof COUNT_NAMES)[number], number>;

export interface Rates { delivery: number | null; bounce: number | null; complaint: number | null; open: number | null; click: number | null }
export interface StatsGroupReport { key: string; counts: Counts; rates: Rates }

export function countsOf(metrics: Record<string, number>): Counts {
  const c = Object.fromEntries(COUNT_NAMES.map((n) => [n, metrics[n] ?? 0])) as Counts;
  c.bounced = c.bounced_hard + c.bounced_soft + c.bounced_block;
  return c;
}

const ratio = (n: number, d: number): number | null => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);

/**
 * Rates over the recipients that reached an end: delivery and bounce over delivered + bounced +
 * failed (expired); complaint, open and click over delivered, opens and clicks counted once per
 * message and recipient and only when a person (not Apple's proxy, an image proxy or a link
 * scanner, as far as they are told apart) fetched them.
 */
export function ratesOf(c: Counts): Rates {
  const ended = c.delivered + c.bounced + c.failed;
  return {
    delivery: ratio(c.delivered, ended),
    bounce: ratio(c.bounced + c.failed, ended),
    complaint: ratio(c.complained, c.delivered),
    open: ratio(c.opened_unique, c.delivered),
    click: ratio(c.clicked_unique, c.delivered),
  };
}

/** The report of each group, and the total over them. */
export function statsReport(rows: StatsRow[]): { groups: StatsGroupReport[]; total: StatsGroupReport } {
  const sum: Record<string, number> = {};
  for (const r of rows) for (const [k, v] of Object.entries(r.metrics)) sum[k] = (sum[k] ?? 0) + v;
  const report = (key: string, metrics: Record<string, number>): StatsGroupReport => {
    const counts = countsOf(metrics);
    return { key, counts, rates: ratesOf(counts) };
  };
  return { groups: rows.map((r) => report(r.key, r.metrics)), total: report('', sum) };
}

/** Domain groups rolled up by mailbox provider, in provider order. */
export function byProvider(domainRows: StatsRow[]): StatsRow[] {
  const out = new Map<string, Record<string, number>>();
  for (const r of domainRows) {
    const p = providerOf(r.key);
    const m = out.get(p) ?? {};
    for (const [k, v] of Object.entries(r.metrics)) m[k] = (m[k] ?? 0) + v;
    out.set(p, m);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, metrics]) => ({ key, metrics }));
}
