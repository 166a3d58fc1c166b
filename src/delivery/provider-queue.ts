// Owns the per-provider view of the queue (`postlane queue list --by provider`, GET
// /v1/queue/providers): the waiting recipients grouped by the mailbox provider
// their domain rolls up to (MX lookups, as the scheduler does: delivery/provider-directory.ts),
// each with its effective shaping limits and the suspension every node sees (the store's), so an
// operator can tell why a provider's mail waits. Rates in flight are per node and not shown here.
import { systemClock } from '../clock.js';
import type { Config } from '../config/schema.js';
import { ProviderDirectory } from './provider-directory.js';
import { createResolver } from './resolver.js';
import { effectiveLimits } from './shaping-rules.js';
import type { QueueStore } from '../store/store.js';

export interface ProviderRow {
  provider: string;
  waiting: number;
  domains: number;
  shaped: boolean;
  maxConnections: number | null;
  perMinute: number | null;
  suspendedUntil: number | null;
  reason: string | null;
}

const LOOKUPS_AT_ONCE = 20;
const WAITING = new Set(['queued', 'deferred', 'delivering', 'held']);

export async function listByProvider(store: QueueStore, config: Readonly<Config>, now = Date.now()): Promise<ProviderRow[]> {
  const [rows, suspensions] = await Promise.all([store.listRecipients({ limit: 100_000 }), store.listSuspensions(now)]);
  const byDomain = new Map<string, number>();
  for (const r of rows) {
    if (!WAITING.has(r.state)) continue;
    const domain = r.address.slice(r.address.lastIndexOf('@') + 1).toLowerCase();
    byDomain.set(domain, (byDomain.get(domain) ?? 0) + 1);
  }
  const directory = new ProviderDirectory(createResolver(config.dns), systemClock, config.shaping.mx);
  const groups = new Map<string, { waiting: number; domains: number }>();
  const domains = [...byDomain];
  for (let i = 0; i < domains.length; i += LOOKUPS_AT_ONCE) { // a DNS server answers a few at a time, not thousands
    await Promise.all(domains.slice(i, i + LOOKUPS_AT_ONCE).map(async ([domain, n]) => {
      const provider = await directory.lookup(domain);
      const g = groups.get(provider) ?? { waiting: 0, domains: 0 };
      g.waiting += n; g.domains += 1;
      groups.set(provider, g);
    }));
  }
  for (const s of suspensions) if (!groups.has(s.provider)) groups.set(s.provider, { waiting: 0, domains: 0 });
  return [...groups].map(([provider, g]) => {
    const limits = config.shaping.enabled ? effectiveLimits(config.shaping, provider) : null;
    const s = suspensions.filter((x) => x.provider === provider).sort((a, b) => b.until - a.until)[0];
    return {
      provider, ...g, shaped: limits !== null, maxConnections: limits?.maxConnections ?? null, perMinute: limits?.perMinute ?? null,
      suspendedUntil: s?.until ?? null, reason: s?.reason ?? null,
    };
  }).sort((a, b) => b.waiting - a.waiting || (a.provider < b.provider ? -1 : 1));
}
