// Owns how `postlane queue list --by provider` prints the per-provider view (delivery/provider-queue.ts).
import type { ProviderRow } from '../delivery/index.js';

export function formatProviders(rows: ProviderRow[]): string {
  if (rows.length === 0) return 'no waiting mail and no suspended provider\n';
  const head = 'PROVIDER'.padEnd(24) + 'WAITING'.padStart(8) + 'DOMAINS'.padStart(8) + 'CONNS'.padStart(6) + 'PER-MIN'.padStart(8) + '  SUSPENDED UNTIL (WHY)';
  const fmt = (v: number | null) => (v === null ? '-' : String(v));
  return [head, ...rows.map((r) => r.provider.padEnd(24) + String(r.waiting).padStart(8) + String(r.domains).padStart(8)
    + fmt(r.maxConnections).padStart(6) + fmt(r.perMinute).padStart(8)
    + (r.suspendedUntil ? `  ${new Date(r.suspendedUntil).toISOString()} (${r.reason})` : (r.shaped ? '' : '  (not shaped)')))].join('\n') + '\n';
}
