// Owns the relay's periodic chores, each on its own timer (unref'd: they never keep the process
// alive) and each logging its own failure without stopping the others: purge finished mail,
// idempotency records, old events and warmup counters; promote DKIM key rotations once their DNS is visible; the
// cluster heartbeat; refresh the installation secrets (a rotation on another node applies here
// within a minute); fold statistics deltas into their counters (PostgreSQL).
import { utcDay } from './config/warmup-schedules.js';
import type { Config } from './config/schema.js';
import type { Logger } from './events/log.js';
import type { SecretRing } from './events/secret-ring.js';
import type { QueueStore } from './store/store.js';
import { promoteRotations } from './domains/key-rotation.js';
import { createResolver } from './delivery/resolver.js';

const HOUR_MS = 3_600_000;
const HEARTBEAT_MS = 10_000;
const SECRETS_REFRESH_MS = 60_000;
const STATS_COMPACT_MS = 30_000;
/** Idempotency-Key records answer retries for a day (docs/api.md). */
const IDEMPOTENCY_RETENTION_MS = 86_400_000;

export interface HousekeepingDeps {
  config: Readonly<Config>;
  store: QueueStore;
  logger: Logger;
  nodeId: string;
  /** Deliveries running on this node, for the heartbeat. */
  inFlight: () => number;
  secrets: SecretRing[];
}

export interface Housekeeping { stop(): void }

export async function startHousekeeping(d: HousekeepingDeps): Promise<Housekeeping> {
  const { config, store, logger } = d;
  const failed = (event: string, what: string) => (err: unknown) => logger.error({ event, err: (err as Error)?.message ?? String(err) }, `${what} failed`);
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, chore: () => void) => { const t = setInterval(chore, ms); t.unref(); timers.push(t); };

  // Purges run hourly, or often enough for short retentions (a purge is an indexed delete).
  const purgeEvery = Math.max(30_000, Math.min(HOUR_MS, config.storage.retainFinished / 4, config.events.retention / 4));
  every(purgeEvery, () => {
    store.purgeFinished(Date.now() - config.storage.retainFinished).catch(failed('queue.purge_failed', 'purge'));
    store.purgeIdempotencyKeys(Date.now() - IDEMPOTENCY_RETENTION_MS).catch(failed('http.idempotency_purge_failed', 'purge'));
    store.purgeEvents(Date.now() - config.events.retention).catch(failed('events.purge_failed', 'purge'));
    // Warmup counters (egress sources): a week back is plenty for `sources list` and the caps of today.
    store.purgeWarmup(utcDay(Date.now()) - 7).catch(failed('egress.warmup_purge_failed', 'purge'));
  });
  const resolver = createResolver(config.dns);
  const promote = () => promoteRotations({ store, resolver, logger }).catch(failed('dkim.rotation_failed', 'DKIM key rotation check'));
  void promote();
  every(HOUR_MS, promote);
  const startedAt = Date.now();
  const beat = () => store.recordHeartbeat({ nodeId: d.nodeId, startedAt, lastSeenAt: Date.now(), inFlight: d.inFlight() })
    .catch((err: unknown) => logger.warn({ event: 'cluster.heartbeat_failed', err: (err as Error)?.message }, 'heartbeat not recorded'));
  await beat();
  every(HEARTBEAT_MS, beat);
  every(SECRETS_REFRESH_MS, () => { for (const ring of d.secrets) ring.refresh().catch(failed('secrets.refresh_failed', 'secret refresh')); });
  every(STATS_COMPACT_MS, () => { store.compactStats().catch(failed('stats.compact_failed', 'statistics compaction')); });
  return { stop: () => { for (const t of timers) clearInterval(t); } };
}
