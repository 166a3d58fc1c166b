// readMessage/readBody for the attempts that run in the database thread (delivery/thread-attempts.ts):
// the same bytes as SqliteQueueStore's (header prefix, then the inline blob or the spool file),
// read here from the reader connection, so no body crosses threads. A read the disk failed
// (availability.ts) is a QueueUnavailableError, as the store's own read would be on the main thread.
import { Readable } from 'node:stream';
import { NotFoundError, QueueUnavailableError, RelayError } from '../../errors.js';
import type { QueueStore } from '../store.js';
import { joinMessage } from '../whole-body.js';
import { isUnavailable } from './availability.js';
import type { BodySource } from './protocol.js';
import { bodySource } from './read-ops.js';
import type { Db } from './rows.js';
import { readBodyFile } from './spool.js';

export function threadBodies(reader: Db, spoolDir: string): Pick<QueueStore, 'readMessage' | 'readBody'> {
  const source = (id: string): BodySource => {
    try {
      return bodySource(reader, id);
    } catch (err) {
      const e = err as { message?: string; code?: string };
      if (isUnavailable(e?.code)) throw new QueueUnavailableError(`queue bodySource failed: storage unavailable (${String(e?.message ?? err)})`, { cause: err });
      throw new RelayError('ERR_QUEUE_READ', 'queue bodySource failed', undefined, { cause: err });
    }
  };
  async function* chunks(id: string, known?: BodySource): AsyncGenerator<Buffer> {
    const { prefix, body } = known ?? source(id);
    if (body === null) throw new NotFoundError(`body of message ${id}`);
    if (prefix) yield Buffer.from(prefix, 'latin1');
    if (body === 'file' || body === 'inline') yield* readBodyFile(spoolDir, id) as AsyncIterable<Buffer>;
    else yield Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }
  return {
    readBody: (id) => Readable.from(chunks(id), { objectMode: false }),
    async readMessage(id) {
      const s = source(id);
      if (s.body === null) throw new NotFoundError(`body of message ${id}`);
      if (s.body === 'file' || s.body === 'inline') return Readable.from(chunks(id, s), { objectMode: false });
      return joinMessage(s.prefix, Buffer.from(s.body.buffer, s.body.byteOffset, s.body.byteLength));
    },
  };
}
