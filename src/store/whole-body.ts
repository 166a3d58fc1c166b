// Writing a body the relay generated itself (a DSN, a TLS report) in one piece: write, finish,
// and abort on any failure so no half-written spool file or pending body is left behind.
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
