// Owns what happens when the outcome of a finished delivery cannot be recorded because the queue
// store is unreachable (QueueUnavailableError): the outcome stays in memory and is recorded again
// with a capped backoff until the job's lease expires. A short database outage thus causes no
// duplicate: without this, a message delivered during the outage would stay 'delivering' and be
// delivered again once its lease expired (at-least-once). Past the lease another worker may claim
// the job, so we give up there (the job's slot is held meanwhile, which bounds the memory used).
// Any other error is not retried: it is the caller's to handle.
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import { isQueueUnavailable } from '../errors.js';
import type { Logger } from '../events/log.js';
import { OutageBackoff, type BackoffLimits } from './outage-backoff.js';

export const RECORD_RETRY_BACKOFF: BackoffLimits = { initialMs: 250, maxMs: 5_000 };

export interface RecordRetryOptions {
  clock: Clock;
  logger: Logger;
  /** Queue id, for the log. */
  id: string;
  /** No try starts after this (ms): the job's lease expiry. */
  deadline: number;
  /** Stop retrying (graceful stop gave up waiting): the last error is thrown. */
  signal?: AbortSignal;
  limits?: BackoffLimits;
  /** Injected by tests; default: a timer, cut short by `signal`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, { signal }).catch(() => undefined);

export async function recordWithRetry(record: () => Promise<void>, o: RecordRetryOptions): Promise<void> {
  const backoff = new OutageBackoff(o.limits ?? RECORD_RETRY_BACKOFF, o.clock);
  const sleep = o.sleep ?? defaultSleep;
  for (;;) {
    try {
      await record();
    } catch (err) {
      if (!isQueueUnavailable(err)) throw err;
      const { delayMs, began } = backoff.failed();
      const left = o.deadline - o.clock.now();
      if (left <= 0 || o.signal?.aborted) {
        o.logger.error({ event: 'delivery.record_gave_up', id: o.id, reason: (err as Error).message },
          'could not record a delivery result before its lease expired; it may be delivered again');
        throw err;
      }
      if (began) {
        o.logger.warn({ event: 'delivery.record_retrying', id: o.id, until: o.deadline },
          'queue unavailable: keeping a delivery result in memory and retrying');
      }
      await sleep(Math.min(delayMs, left), o.signal);
      continue;
    }
    const end = backoff.succeeded();
    if (end) o.logger.info({ event: 'delivery.record_recovered', id: o.id, ...end }, 'delivery result recorded after the queue returned');
    return;
  }
}
