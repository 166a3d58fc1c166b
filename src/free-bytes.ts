// Freeing an ArrayBuffer's memory at once, where its owner knows nobody reads it again.
import { MessageChannel, type MessagePort } from 'node:worker_threads';

/** A port closed at birth: a message posted to it is serialised (its transfer list detached) and dropped. */
let sink: MessagePort | null = null;

/**
 * Detaches `ab` (every view of it then has length 0) and frees its bytes now, not when the GC
 * collects the last object that refers to them. Posting a message to a closed MessagePort still
 * moves the transferred buffers out of their ArrayBuffers (the HTML rules: a closed port
 * serialises), and Node then drops the message, releasing the backing stores with it, before
 * postMessage returns. structuredClone(ab, { transfer }) moves them too, but into a new young
 * ArrayBuffer that waits for the next scavenge of its isolate, which for the database thread's
 * isolate can be many messages away (bench/README.md, nineteenth session). False when `ab` cannot be
 * detached (e.g. a wasm memory or a SharedArrayBuffer's): the GC frees it as before.
 */
export function freeNow(ab: ArrayBuffer): boolean {
  if (sink === null) {
    const ch = new MessageChannel();
    ch.port1.close();
    sink = ch.port1;
  }
  try {
    sink.postMessage(null, [ab]);
    return true;
  } catch {
    return false;
  }
}
