// The queue depth's part of the store interface (/metrics' postlane_queue_depth): how many
// recipients wait in each state (queued, deferred, held) and how many are in flight (delivering),
// store-wide, from the queue counters and the in-flight recipients only. Its cost is a few rows per
// account and domain plus one row per recipient in flight, whatever the history kept
// (storage.retainFinished): a scrape never reads a finished recipient. The finished states are
// counts()'s, which reads them all (store.ts).

import type { QueueCounts } from './store.js';

export type QueueDepth = Pick<QueueCounts, 'queued' | 'deferred' | 'delivering' | 'held'>;

export interface QueueDepthStore {
  queueDepth(): Promise<QueueDepth>;
}
