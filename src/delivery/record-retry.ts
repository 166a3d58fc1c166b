// Owns what happens when the outcome of a finished delivery cannot be recorded because the queue
// store is unavailable (QueueUnavailableError: PostgreSQL unreachable, a full or failing disk):
// the outcome stays in memory and is recorded again with a capped backoff until it is recorded or
// the scheduler stops. Without this, a message delivered during the outage would stay
// 'delivering' and be delivered again once its lease expired (at-least-once).
// The retry outlives the job's lease: recordResults only changes rows still leased to this node,
// so once another node has reclaimed the job, our late report writes nothing and theirs stands
// (at-least-once); until then it is still ours to record. This node claims nothing while an
// outcome is held (`held`, read by the scheduler), so it never reclaims such a job itself.
// Memory is bounded by the running jobs' slots (delivery.concurrency, plus delivery.maxSlowAttempts in the slow lane). Any other error is not
// retried: it is the caller's to handle.
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
  /** The job's lease expiry (ms): past it, another node may reclaim the job (logged once). */
  leaseUntil: number;
  /** Stop retrying (graceful stop gave up waiting): the last error is thrown. */
  signal?: AbortSignal;
  /** Holds a token while this outcome waits for the store (the runner's count of held outcomes). */
  held?: Set<symbol>;
  limits?: BackoffLimits;
  /** Injected by tests; default: a timer, cut short by `signal`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const defaultSleep = (ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, { signal }).catch(() => undefined);

export async function recordWithRetry(record: () => Promise<void>, o: RecordRetryOptions): Promise<void> {
  const backoff = new OutageBackoff(o.limits ?? RECORD_RETRY_BACKOFF, o.clock);
  const sleep = o.sleep ?? defaultSleep;
  const token = Symbol(o.id);
  let leaseLogged = false;
  try {
    for (;;) {
      try {
        await record();
      } catch (err) {
        if (!isQueueUnavailable(err)) throw err;
        const { delayMs, began } = backoff.failed();
        if (o.signal?.aborted) {
          o.logger.error({ event: 'delivery.record_gave_up', id: o.id, reason: (err as Error).message },
            'stopping: could not record a delivery result; it may be delivered again');
          throw err;
        }
        if (began) {
          o.held?.add(token);
          o.logger.warn({ event: 'delivery.record_retrying', id: o.id, leaseUntil: o.leaseUntil },
            'queue unavailable: keeping a delivery result in memory and retrying');
        }
        if (!leaseLogged && o.clock.now() >= o.leaseUntil) {
          leaseLogged = true;
          o.logger.warn({ event: 'delivery.record_lease_expired', id: o.id, leaseUntil: o.leaseUntil },
            'the lease of a delivery whose result is still held has expired: still retrying; another node that claims it meanwhile will deliver it again');
        }
        await sleep(delayMs, o.signal);
        continue;
      }
      const end = backoff.succeeded();
      if (end) o.logger.info({ event: 'delivery.record_recovered', id: o.id, ...end }, 'delivery result recorded after the queue returned');
      return;
    }
  } finally {
    o.held?.delete(token);
  }
}
