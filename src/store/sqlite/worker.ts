// The database thread: the relay's home of the store's executor (executor.ts, which has the
// durability, group-commit and fail-stop rules), so that SQLite's statements run beside the main
// thread rather than on it. Kept for the relay after the twenty-third session measured the
// executor on the main thread: peak anonymous memory −10 to −13 MB, but on a 2-core VM the main
// thread saturates on small messages (e2e 0.60, relay CPU 1.14 on i-3k; 0.84 / 1.12 on full (ii);
// bench/README.md, twenty-third session). The CLI runs the executor in-process (client.ts).
//
// Requests come from worker-client.ts, one or an array per message; every inline body arrived by
// transfer, so the executor may free it (StoreRequest's `transfer`). Answers go back in the
// executor's order, a kept body or a blob read from SQLite transferred rather than copied. On a
// fail-stop the thread posts a WorkerFatal and exits: worker-client.ts fails every pending and
// later request. Closing the connections on the way out is safe (executor.ts, "Fail-stop").
import { parentPort, workerData } from 'node:worker_threads';
import { answerBuffers, ownedBodies, StoreExecutor } from './executor.js';
import type { StoreConfig, StoreRequest, StoreResponse, WorkerFatal, WorkerReady } from './protocol.js';

function main(): void {
  const port = parentPort!;
  const send = (r: StoreResponse): void => port.postMessage(r, answerBuffers(r));
  let opened: { executor: StoreExecutor; swept: number };
  try {
    opened = StoreExecutor.open(workerData as StoreConfig, send, (message, code) => {
      port.postMessage({ fatal: true, message, code } satisfies WorkerFatal);
      process.exit(1); // in a worker: ends this thread, and the messages already posted are delivered
    });
  } catch (err) {
    const e = err as { message?: string; code?: string };
    port.postMessage({ ready: false, message: String(e?.message ?? err), code: e?.code } satisfies WorkerReady);
    return;
  }
  const { executor } = opened;
  const handle = (req: StoreRequest): void => {
    if (req.op === 'close') {
      void executor.close().then(() => { send({ id: req.id, ok: true, result: null }); port.close(); });
      return;
    }
    const owned = ownedBodies(req);
    if (owned.length > 0) req.transfer = owned;
    executor.handle(req);
  };
  // One request, or the requests the main thread made in one turn of its event loop (worker-client.ts), in order.
  port.on('message', (msg: StoreRequest | StoreRequest[]) => {
    if (Array.isArray(msg)) for (const req of msg) handle(req);
    else handle(msg);
  });
  port.postMessage({ ready: true, swept: opened.swept } satisfies WorkerReady);
}

main();
