// Chooses the QueueStore implementation from the config (SQLite now; PostgreSQL with storage.url later).
import type { Config } from '../config/schema.js';
import type { Logger } from '../events/log.js';
import { SqliteQueueStore } from './sqlite/sqlite-store.js';
import type { QueueStore } from './store.js';

/** role 'relay' may clean up after a crash (orphan bodies); 'admin' (the CLI) never does. */
export function openStore(config: Readonly<Config>, logger: Logger, role: 'relay' | 'admin'): QueueStore {
  return new SqliteQueueStore({ dataDir: config.dataDir, logger, sweepOrphans: role === 'relay' });
}
