// The delivery thread's own entry (client.ts starts it when the store hosts none: PostgreSQL, or
// the SQLite store gone): serve.ts on the thread's parent port, and the thread's heap kept small.
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadData } from './protocol.js';
import { serveDelivery } from './serve.js';

serveDelivery(parentPort!, workerData as ThreadData);

/**
 * The thread's heap, kept near what it holds. V8 lets an old generation grow by at least 8 MB
 * past what its last mark-compact kept (MinimumAllocationLimitGrowingStep), whatever
 * --heap-growing-percent says; here that is most of the heap (~6 MB live, peaks of 13-14 MB, all
 * promoted garbage of finished transactions). So the thread collects itself once its heap holds
 * GC_SLACK more than after its last collection, checked every second: a full collection of this
 * small heap takes a few ms of this thread, not the main thread's.
 */
const GC_SLACK = 3 * 1024 * 1024;
v8.setFlagsFromString('--expose-gc'); // makes `gc` in contexts made from now on: this one only
const collect = runInNewContext('gc') as () => void;
let floor = v8.getHeapStatistics().used_heap_size;
setInterval(() => {
  if (v8.getHeapStatistics().used_heap_size < floor + GC_SLACK) return;
  collect();
  floor = v8.getHeapStatistics().used_heap_size;
}, 1000).unref();
