// The heavy-read thread's entry (started by reader-thread.ts): its own read-only connection on the
// queue database, with the pragmas of the executor's reader (connections.ts openReader), runs each
// heavy read with the same handler the main thread would (read-handlers.ts) and posts the answer
// back. On 'close' it closes the connection and lets the thread end.
import { parentPort, workerData } from 'node:worker_threads';
import { openReader } from './connections.js';
import type { StoreResponse } from './protocol.js';
import { READ_HANDLERS } from './read-handlers.js';
import { OpError } from './rows.js';
import type { ReaderMessage } from './reader-thread.js';

const port = parentPort!;
const db = openReader((workerData as { dbPath: string }).dbPath); // a failure: the thread's 'error', failing what was sent to it

port.on('message', (msg: ReaderMessage) => {
  if (msg === 'close') {
    db.close();
    port.close(); // nothing else keeps the thread alive: it ends
    return;
  }
  let answer: StoreResponse;
  try {
    answer = { id: msg.id, ok: true, result: READ_HANDLERS[msg.op](db, ...(msg.args as never[])) };
  } catch (err) {
    const e = err as { message?: string; code?: string };
    answer = { id: msg.id, ok: false, kind: err instanceof OpError ? err.kind : 'internal', message: String(e?.message ?? err), code: e?.code };
  }
  try { port.postMessage(answer); } catch (err) { // a result that cannot be cloned: its read fails, not the thread
    port.postMessage({ id: msg.id, ok: false, kind: 'internal', message: String((err as Error)?.message ?? err) } satisfies StoreResponse);
  }
});
