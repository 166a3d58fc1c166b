// Chooses the QueueStore implementation from the config: PostgreSQL when storage.url is set (several
// nodes share it), else the embedded SQLite queue in dataDir. Each is imported only when chosen: a
// SQLite relay never loads the PostgreSQL store's 25 modules (bench/README.md "Memory, fifth session").
import type { Config } from '../config/schema.js';
import type { Logger } from '../events/log.js';
import type { QueueStore } from './store.js';
import type { SoftBouncePolicy } from './suppression-store.js';
import type { BreakerPolicy } from './breaker-rules.js';

/** The soft-bounce rule of suppression.softBounces (null: never; count beyond any real sequence). */
export const softBouncePolicy = (config: Readonly<Config>): SoftBouncePolicy =>
  config.suppression.softBounces ? { count: config.suppression.softBounces.count, windowMs: config.suppression.softBounces.window }
    : { count: Number.MAX_SAFE_INTEGER, windowMs: 0 };

/** The circuit breakers of config breakers (percentages become fractions; null: not watched). */
export function breakerPolicy(config: Readonly<Config>): BreakerPolicy {
  const b = config.breakers;
  const thresholds: BreakerPolicy['thresholds'] = {};
  const pct = { complaint: b.complaintPercent, hard_bounce: b.hardBouncePercent, block: b.blockPercent, deferral: b.deferralPercent } as const;
  for (const [metric, p] of Object.entries(pct) as [keyof typeof pct, number | null][]) if (p !== null) thresholds[metric] = p / 100;
  return { enabled: b.enabled, scopes: [...new Set(b.scopes)], windowMs: b.window, minVolume: b.minVolume, thresholds, pauseTransactional: b.pauseTransactional };
}

/**
 * role 'relay' may clean up after a crash (orphan bodies); 'admin' (the CLI) never does.
 * `onDead`: the store can no longer be used in this process (SQLite: its database thread ended,
 * e.g. after a failed WAL fsync); logged by the store before the call. PostgreSQL has no such state.
 */
export async function openStore(config: Readonly<Config>, logger: Logger, role: 'relay' | 'admin', onDead?: () => void): Promise<QueueStore> {
  if (config.storage.url) {
    const { PostgresQueueStore } = await import('./postgres/postgres-store.js');
    return new PostgresQueueStore({
      url: config.storage.url, logger, poolSize: config.storage.poolSize, statementTimeoutMs: config.storage.statementTimeout,
      connectTimeoutMs: config.storage.connectTimeout,
      // room for the headers Postlane adds (Received, Message-ID, Date, DKIM-Signature)
      maxBodyBytes: config.limits.maxMessageSize + 64 * 1024,
      softBounces: softBouncePolicy(config), breakers: breakerPolicy(config),
    });
  }
  const { SqliteQueueStore } = await import('./sqlite/sqlite-store.js');
  return new SqliteQueueStore({
    dataDir: config.dataDir, logger, sweepOrphans: role === 'relay', softBounces: softBouncePolicy(config), breakers: breakerPolicy(config), onDead,
    // the CLI: no database thread to start (sqlite-store.ts, inProcess); the relay: only with
    // storage.sqliteThread: main, and then with the heavy reads on a thread of their own
    inProcess: role === 'admin' || config.storage.sqliteThread === 'main',
    heavyReadsThread: role === 'relay',
  });
}
