// A body in one piece. Writing one the relay generated itself (a DSN, a TLS report): write,
// finish, and abort on any failure so no half-written spool file or pending body is left behind.
// Reading one for delivery (readMessage): the header prefix and the body joined in one Buffer.
import type { QueueStore } from './store.js';

/** Writes `body` durably as message `id`'s body; resolves to the bytes written. */
export async function writeWholeBody(store: Pick<QueueStore, 'createBody'>, id: string, body: Buffer): Promise<number> {
  const writer = store.createBody(id);
  try {
    await writer.write(body);
    await writer.finish();
  } catch (err) {
    await writer.abort().catch(() => undefined);
    throw err;
  }
  return writer.bytesWritten;
}

/** The message as readBody streams it, in one Buffer: `prefix` (latin1 header lines), then `body`. */
export function joinMessage(prefix: string | null, body: Buffer): Buffer {
  if (!prefix) return body;
  const head = Buffer.byteLength(prefix, 'latin1');
  const out = Buffer.allocUnsafe(head + body.length);
  out.write(prefix, 0, head, 'latin1');
  body.copy(out, head);
  return out;
}
