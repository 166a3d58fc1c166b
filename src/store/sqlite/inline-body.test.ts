// Inline bodies: the writer keeps up to INLINE_MAX_BYTES in memory (no file at all) and spills
// beyond; the registry hands each finished body to its commit once and forgets abandoned ones;
// through the store, a spilled body's file is unlinked after its message completes.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { QueueWriteError } from '../../errors.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import { INLINE_MAX_BYTES, InlineBodies, InlineBodyWriter, KEEP_FOR_DELIVERY_MIN, KeptBodies } from './inline-body.js';
import { NotFoundError } from '../../errors.js';
import { SqliteQueueStore } from './sqlite-store.js';

const MAX_AGE = 600_000;

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'postlane-inline-'));
  try { await fn(dir); } finally { await fs.rm(dir, { recursive: true, force: true }); }
}

function fakeClock(t = 0) { return { t, now() { return this.t; } }; }

test('inline body: up to INLINE_MAX_BYTES stays in memory, in an unpooled buffer that can be transferred; no file', () => withDir(async (dir) => {
  const registry = new InlineBodies(fakeClock(), MAX_AGE);
  const id = newQueueId();
  const w = new InlineBodyWriter(dir, id, registry);
  const first = Buffer.from('first chunk,');
  await w.write(first);
  first.fill(0); // a short chunk is copied at once (a long one may be kept by reference until finish)
  await w.write(Buffer.alloc(INLINE_MAX_BYTES - 12, 'y'));
  assert.equal(w.bytesWritten, INLINE_MAX_BYTES);
  await w.finish();
  await assert.rejects(w.write(Buffer.from('late')), QueueWriteError);
  assert.deepEqual(await fs.readdir(dir), []);
  const data = registry.take(id)!;
  assert.equal(data.byteLength, INLINE_MAX_BYTES);
  assert.equal(Buffer.from(data.buffer, 0, 12).toString(), 'first chunk,');
  const moved = structuredClone(data, { transfer: [data.buffer] });
  assert.equal(data.byteLength, 0, 'transferred, not copied');
  assert.equal(moved.byteLength, INLINE_MAX_BYTES);
  assert.equal(registry.take(id), undefined, 'taken once');
}));

test('inline body: long chunks, short runs and a body sent a byte at a time come back whole, in order, in an exact-size buffer', () => withDir(async (dir) => {
  const registry = new InlineBodies(fakeClock(), MAX_AGE);
  const parts = [Buffer.alloc(10_000, 'a'), Buffer.from('b'), Buffer.alloc(3_000, 'c'), Buffer.alloc(70_000, 'd'), Buffer.from('.e\r\n'), Buffer.alloc(0), Buffer.alloc(20_000, 'f')];
  const id = newQueueId();
  const w = new InlineBodyWriter(dir, id, registry);
  for (const p of parts) await w.write(p);
  await w.finish();
  const data = registry.take(id)!;
  assert.equal(data.buffer.byteLength, data.byteLength, 'no slack: the transferred buffer is the body');
  assert.ok(Buffer.from(data).equals(Buffer.concat(parts)));

  // a client's body a byte per segment: copied into 16 KiB runs, not kept as 200,000 Buffers
  const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
  const id2 = newQueueId();
  const w2 = new InlineBodyWriter(dir, id2, registry);
  const before = process.memoryUsage().arrayBuffers;
  const scratch = Buffer.allocUnsafeSlow(1); // one byte reused for every write: only a copy keeps each
  for (let i = 0; i < body.length; i++) { scratch[0] = body[i]!; await w2.write(scratch); }
  assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'the runs stay near the body size');
  await w2.finish();
  assert.ok(Buffer.from(registry.take(id2)!).equals(body));

  // short and long chunks alternating: the runs are shared, not one per short chunk
  const id3 = newQueueId();
  const w3 = new InlineBodyWriter(dir, id3, registry);
  const long = Buffer.alloc(4096, 'L');
  const at3 = process.memoryUsage().arrayBuffers;
  const expect: Buffer[] = [];
  for (let i = 0; i < 60; i++) { scratch[0] = 48 + (i % 10); await w3.write(scratch); await w3.write(long); expect.push(Buffer.from(scratch), long); }
  assert.ok(process.memoryUsage().arrayBuffers - at3 < 64 * 1024, 'one 16 KiB run for 60 short chunks');
  await w3.finish();
  assert.ok(Buffer.from(registry.take(id3)!).equals(Buffer.concat(expect)));
  assert.deepEqual(await fs.readdir(dir), []);
}));

test('inline body: one byte over INLINE_MAX_BYTES spills everything to a spool file, in order', () => withDir(async (dir) => {
  const registry = new InlineBodies(fakeClock(), MAX_AGE);
  const id = newQueueId();
  const w = new InlineBodyWriter(dir, id, registry);
  const a = Buffer.alloc(INLINE_MAX_BYTES, 'a');
  await w.write(a);
  await w.write(Buffer.from('b'));
  await w.write(Buffer.from('cd'));
  assert.equal(w.bytesWritten, INLINE_MAX_BYTES + 3);
  await w.finish();
  assert.equal(registry.take(id), undefined);
  assert.deepEqual(await fs.readFile(path.join(dir, id)), Buffer.concat([a, Buffer.from('bcd')]));
}));

test('inline body: abort forgets a finished body; an unsafe id is refused up front', () => withDir(async (dir) => {
  const registry = new InlineBodies(fakeClock(), MAX_AGE);
  const id = newQueueId();
  const w = new InlineBodyWriter(dir, id, registry);
  await w.write(Buffer.from('x'));
  await w.finish();
  await w.abort();
  assert.equal(registry.take(id), undefined);
  assert.throws(() => new InlineBodyWriter(dir, '../etc/passwd', registry), QueueWriteError);
}));

test('inline bodies: one never committed is dropped after the orphan age, younger ones are kept', () => {
  const clock = fakeClock(1000);
  const registry = new InlineBodies(clock, MAX_AGE);
  registry.add('abandoned', new Uint8Array(1));
  clock.t += MAX_AGE - 1;
  registry.add('young', new Uint8Array(2));
  clock.t += 1;
  registry.add('new', new Uint8Array(3));
  assert.equal(registry.take('abandoned'), undefined);
  assert.equal(registry.take('young')?.byteLength, 2);
  assert.equal(registry.take('new')?.byteLength, 3);
});

test('store: a spilled body file is unlinked after its message completes (by close at the latest); inline ones never had one', () => withDir(async (dir) => {
  const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
  await store.open();
  const spool = path.join(dir, 'spool');
  const ids: string[] = [];
  for (const size of [INLINE_MAX_BYTES + 1, 100]) {
    const id = newQueueId();
    ids.push(id);
    const w = store.createBody(id);
    await w.write(Buffer.alloc(size, 'z'));
    await w.finish();
    await store.put({ id, mailFrom: '', recipients: ['r@example.com'], size, receivedAt: 1,
      origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
  }
  assert.deepEqual(await fs.readdir(spool), [ids[0]]);
  for (const job of await store.claimDue({ now: 1, limit: 10, leaseMs: 1000, owner: 'n' })) {
    await store.recordResults(job.messageId, [{ rcptId: job.recipients[0]!.id, status: 'delivered', response: '250 ok' }]);
  }
  await store.close();
  assert.deepEqual(await fs.readdir(spool), []);
}));

test('kept bodies: taken once; the oldest dropped past the byte bound or the age', () => {
  const clock = fakeClock(0);
  const kept = new KeptBodies(clock, 1000, 300);
  kept.add('a', Buffer.alloc(100, 'a'));
  kept.add('b', Buffer.alloc(100, 'b'));
  kept.add('c', Buffer.alloc(100, 'c'));
  assert.equal(kept.bytes, 300);
  kept.add('d', Buffer.alloc(100, 'd')); // over 300: a goes
  assert.equal(kept.take('a'), undefined);
  assert.equal(kept.take('b')!.toString(), 'b'.repeat(100));
  assert.equal(kept.take('b'), undefined, 'taken once');
  assert.equal(kept.bytes, 200);
  kept.add('c', Buffer.alloc(50, 'C')); // the same id again: replaced, counted once
  assert.equal(kept.bytes, 150);
  clock.t = 1500;
  kept.add('e', Buffer.alloc(10, 'e')); // d and c are older than the age: dropped
  assert.equal(kept.take('d'), undefined);
  assert.equal(kept.take('c'), undefined);
  assert.equal(kept.bytes, 10);
  kept.add('huge', Buffer.alloc(301)); // larger than the bound: never kept
  assert.equal(kept.take('huge'), undefined);
  assert.equal(kept.take('e')!.length, 10);
  assert.equal(kept.bytes, 0);
});

test('store: a large inline body is delivered from the kept copy (same bytes), a second read comes from the database, a finished message from neither', () => withDir(async (dir) => {
  const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
  await store.open();
  try {
    const body = Buffer.alloc(100 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = 32 + (i * 7) % 90;
    const ids: string[] = [];
    for (const size of [body.length, KEEP_FOR_DELIVERY_MIN - 1]) {
      const id = newQueueId();
      ids.push(id);
      const w = store.createBody(id);
      await w.write(body.subarray(0, size));
      await w.finish();
      await store.put({ id, mailFrom: '', recipients: ['r@example.com'], size, receivedAt: 1,
        origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    }
    // mark the stored copy (another connection), to tell which one each read returns
    const db = new Database(path.join(dir, 'queue.db'));
    db.prepare('UPDATE message_body SET data = ? WHERE message_id = ?').run(Buffer.alloc(body.length, 'S'), ids[0]);
    db.close();
    const first = await store.readMessage(ids[0]!) as Buffer;
    assert.ok(first.equals(body));
    assert.equal(first.byteOffset, 0);
    assert.equal(first.byteLength, first.buffer.byteLength, 'owns its ArrayBuffer (the delivery may detach it)');
    first.fill(0); // the attempt owns it: nothing the store reads later may see this
    const second = await store.readMessage(ids[0]!) as Buffer;
    assert.ok(second.equals(Buffer.alloc(body.length, 'S')), 'the second read is the stored body');
    assert.ok((await store.readMessage(ids[1]!) as Buffer).equals(body.subarray(0, KEEP_FOR_DELIVERY_MIN - 1)));

    // with a header prefix (a DKIM signature): the prefix, then the kept body
    const signed = newQueueId();
    const prefix = 'DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=k; b=abc\r\n';
    const ws = store.createBody(signed);
    await ws.write(body);
    await ws.finish();
    await store.put({ id: signed, mailFrom: '', recipients: ['r@example.com'], size: body.length + prefix.length, receivedAt: 1, headerPrefix: prefix,
      origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    const withPrefix = await store.readMessage(signed) as Buffer;
    assert.ok(withPrefix.equals(Buffer.concat([Buffer.from(prefix, 'latin1'), body])));
    assert.ok((await store.readMessage(signed) as Buffer).equals(withPrefix), 'the stored message is the same');

    // kept, but finished before the read (e.g. deleted): not found, as without the copy
    const id = newQueueId();
    const w = store.createBody(id);
    await w.write(body);
    await w.finish();
    await store.put({ id, mailFrom: '', recipients: ['r@example.com'], size: body.length, receivedAt: 1,
      origin: { listener: 'mx', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    for (const job of await store.claimDue({ now: 1, limit: 10, leaseMs: 1000, owner: 'n' })) {
      if (job.messageId !== id) continue;
      await store.recordResults(job.messageId, [{ rcptId: job.recipients[0]!.id, status: 'delivered', response: '250 ok' }]);
    }
    await assert.rejects(store.readMessage(id), NotFoundError);
  } finally {
    await store.close();
  }
}));

test('store: a large body is handed back by the executor to be kept (one buffer, no copy), or freed there once stored', () => withDir(async (dir) => {
  const store = new SqliteQueueStore({ dataDir: dir, logger: createLogger('silent') });
  await store.open();
  const size = 200 * 1024;
  const allocated = () => process.memoryUsage().arrayBuffers;
  try {
    const chunk = Buffer.alloc(size, 'k');
    const origin = { listener: 'mx' as const, clientIp: '127.0.0.1', user: null };
    // put: the body comes back with the answer and is what the first read returns
    const id = newQueueId();
    const before = allocated();
    const w = store.createBody(id);
    await w.write(chunk);
    await w.finish(); // one buffer of `size`
    await store.put({ id, mailFrom: '', recipients: ['r@example.com'], size, receivedAt: 1, origin, isBounce: false, route: 'relay' });
    assert.ok(allocated() - before < size + size / 2, `one buffer of the body after put, not two (${allocated() - before} bytes)`);
    const first = await store.readMessage(id) as Buffer;
    assert.ok(first.equals(chunk));
    assert.ok((await store.readMessage(id) as Buffer).equals(chunk), 'the stored body is the same');

    // putMany keeps nothing: the executor frees each large body once its statement has run
    const many = [newQueueId(), newQueueId()];
    const before2 = allocated();
    for (const m of many) {
      const wm = store.createBody(m);
      await wm.write(chunk);
      await wm.finish();
    }
    await store.putMany(many.map((m) => ({ id: m, mailFrom: '', recipients: ['r@example.com'], size, receivedAt: 1, origin, isBounce: false, route: 'relay' as const })));
    assert.ok(allocated() - before2 < size / 2, `both bodies freed by the executor (${allocated() - before2} bytes left)`);
    for (const m of many) assert.ok((await store.readMessage(m) as Buffer).equals(chunk));
  } finally {
    await store.close();
  }
}));
