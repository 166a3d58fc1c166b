// The body part of the QueueStore contract, run by queueStoreContract against every
// implementation: small bodies (which an implementation may keep inline with the rows) and large
// ones (beyond any inline limit: SQLite keeps up to 256 KiB in the database) round-trip exactly
// and go away when the message completes; each attempt keeps its TLS result. Interface only.
import assert from 'node:assert/strict';
import { newQueueId } from '../../src/message/ids.js';
import type { AttemptTls, NewMessage, QueueStore } from '../../src/store/store.js';

type It = (title: string, body: (store: QueueStore) => Promise<void>) => void;

const T0 = 1_700_000_000_000;
/** Larger than any implementation's inline limit. */
const LARGE = 600_000;

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** readMessage's bytes: its Buffer, or its stream read to the end (a body kept in a file). */
async function readMessage(store: QueueStore, id: string): Promise<Buffer> {
  const m = await store.readMessage(id);
  return Buffer.isBuffer(m) ? m : readAll(m);
}

async function hasBody(store: QueueStore, id: string): Promise<boolean> {
  try { await readAll(store.readBody(id)); return true; } catch { return false; }
}

/** Every byte value, repeated: NUL, bare CR and LF, 8-bit. */
const binary = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + (i >> 8)) % 256));

/** Writes `bytes` in the given chunk sizes (cycled), then queues the message. */
async function enqueue(store: QueueStore, bytes: Buffer, chunkSizes: number[], over: Partial<NewMessage> = {}): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  for (let off = 0, i = 0; off < bytes.length; i++) {
    const n = chunkSizes[i % chunkSizes.length]!;
    await w.write(bytes.subarray(off, off + n));
    off += n;
  }
  await w.finish();
  assert.equal(w.bytesWritten, bytes.length);
  await store.put({
    id, mailFrom: 'sender@example.org', recipients: ['rcpt@example.com'], size: w.bytesWritten, receivedAt: T0,
    origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay', ...over,
  });
  return id;
}

async function deliverAll(store: QueueStore, id: string, tls?: AttemptTls): Promise<void> {
  const [job] = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'node-a' });
  assert.equal(job?.messageId, id);
  await store.recordResults(id, job.recipients.map((r) => ({ rcptId: r.id, status: 'delivered', response: '250 ok', ...(tls ? { tls } : {}) })));
}

export function queueBodyContract(it: It): void {
  it('a small binary body round-trips exactly, however it was chunked, and goes when the message completes', async (store) => {
    const bytes = binary(40_000);
    const id = await enqueue(store, bytes, [1, 0, 7, 16_384, 3, 20_000]);
    assert.deepEqual(await readAll(store.readBody(id)), bytes);
    assert.deepEqual(await readAll(store.readBody(id)), bytes, 'a body can be read again (each attempt reads it)');
    const whole = await store.readMessage(id);
    assert.ok(Buffer.isBuffer(whole), 'a small body comes from readMessage as one Buffer');
    assert.deepEqual(whole, bytes);
    await deliverAll(store, id);
    assert.equal(await hasBody(store, id), false);
    await assert.rejects(store.readMessage(id), { code: 'ERR_NOT_FOUND' });
  });

  it('an empty body round-trips as zero bytes', async (store) => {
    const id = await enqueue(store, Buffer.alloc(0), [1]);
    assert.equal((await readAll(store.readBody(id))).length, 0);
    assert.equal((await readMessage(store, id)).length, 0);
  });

  it('a large body round-trips exactly and goes when the message completes', async (store) => {
    const bytes = binary(LARGE);
    const id = await enqueue(store, bytes, [65_536, 1000, 100_000]);
    assert.deepEqual(await readAll(store.readBody(id)), bytes);
    assert.deepEqual(await readMessage(store, id), bytes, 'readMessage: a Buffer, or the file streamed');
    assert.equal((await store.getMessage(id))!.size, LARGE);
    await deliverAll(store, id);
    assert.equal(await hasBody(store, id), false);
    await assert.rejects(store.readMessage(id), { code: 'ERR_NOT_FOUND' });
  });

  it('a large body: abort before finish, and deleteMessage, remove it', async (store) => {
    const aborted = newQueueId();
    const w = store.createBody(aborted);
    await w.write(binary(LARGE));
    await w.abort();
    assert.equal(await hasBody(store, aborted), false);
    const id = await enqueue(store, binary(LARGE), [LARGE]);
    assert.equal(await store.deleteMessage(id), true);
    assert.equal(await hasBody(store, id), false);
  });

  it('a finished body that is aborted instead of stored is not kept', async (store) => {
    for (const size of [10, LARGE]) {
      const id = newQueueId();
      const w = store.createBody(id);
      await w.write(binary(size));
      await w.finish();
      await w.abort();
      assert.equal(await hasBody(store, id), false);
    }
  });

  it('each attempt keeps its TLS result; attempts without one have none', async (store) => {
    const tls: AttemptTls = { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: false, policy: 'opportunistic', level: 'opportunistic', error: 'self-signed certificate' };
    const id = await enqueue(store, Buffer.from('Subject: tls\r\n\r\nhi\r\n'), [100], { recipients: ['a@example.com', 'b@example.com'] });
    const [job] = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    const [a, b] = job!.recipients.map((r) => r.id) as [number, number];
    await store.recordResults(id, [
      { rcptId: a, status: 'delivered', response: '250 ok', host: 'mx.example.com', tls },
      { rcptId: b, status: 'deferred', response: 'no route', nextAttemptAt: T0 + 1 },
    ]);
    const attempts = (await store.getMessage(id))!.attempts;
    assert.deepEqual(attempts.find((x) => x.rcptId === a)!.tls, tls);
    assert.equal(attempts.find((x) => x.rcptId === b)!.tls, undefined);
    const plain: AttemptTls = { version: null, cipher: null, verified: false, policy: 'policy', level: 'none' };
    const [again] = await store.claimDue({ now: T0 + 1, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    await store.recordResults(id, [{ rcptId: again!.recipients[0]!.id, status: 'delivered', response: '250 ok', tls: plain }]);
    assert.deepEqual((await store.getMessage(id))!.attempts.filter((x) => x.rcptId === b).map((x) => x.tls), [undefined, plain]);
  });
}
