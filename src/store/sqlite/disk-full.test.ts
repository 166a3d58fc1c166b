// The embedded store on a real full disk: its data directory on a small tmpfs (test/helpers/
// small-fs.ts, root only) filled to the last byte by another file, then freed. While full:
//   - checkWritable says no (statfs) before any write failed, and after;
//   - put, recordResults and heartbeats reject with QueueUnavailableError (451 4.3.0), also when
//     several arrive in one group commit that SQLite rolls back as a whole;
//   - a body too large to stay in memory fails in the spool with ENOSPC as QueueUnavailableError;
//   - the outage is logged once; the process and the store survive (no fail-stop).
// Once freed, the same recordResults calls succeed (nothing was committed meanwhile, nothing is
// lost), the store is writable again and logs its recovery, with no restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { SmallFs, smallFsSkip } from '../../../test/helpers/small-fs.js';
import { createLogger } from '../../events/log.js';
import { newQueueId } from '../../message/ids.js';
import type { NewMessage, RecipientOutcome } from '../store.js';
import { INLINE_MAX_BYTES } from './inline-body.js';
import { SqliteQueueStore } from './sqlite-store.js';

const message = (id: string): NewMessage => ({
  id, mailFrom: 'sender@example.org', recipients: ['rcpt@example.net'], size: 10, receivedAt: Date.now(),
  origin: { listener: 'submission', clientIp: '127.0.0.1', user: 'alice' }, isBounce: false, route: 'relay',
});

async function putMessage(store: SqliteQueueStore, id: string, bytes = 2_000): Promise<void> {
  const w = store.createBody(id);
  try {
    await w.write(Buffer.alloc(bytes, 0x61));
    await w.finish();
  } catch (err) {
    await w.abort();
    throw err;
  }
  await store.put(message(id));
}

const unavailable = { code: 'ERR_QUEUE_UNAVAILABLE', reply: { code: 451, enhanced: '4.3.0', text: 'Temporary local problem, try again later' } };

test('sqlite store on a full disk: 451-class errors, no crash, outcomes recordable once space returns', { skip: smallFsSkip, timeout: 60_000 }, async (t) => {
  const disk = await SmallFs.mount(16);
  const out = new PassThrough();
  const events: { event: string; code?: string }[] = [];
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) events.push(JSON.parse(l) as { event: string }); });
  const store = new SqliteQueueStore({ dataDir: disk.dir, logger: createLogger('info', out) });
  t.after(async () => { await store.close(); await disk.cleanup(); });
  await store.open();

  const ids = Array.from({ length: 6 }, () => newQueueId());
  for (const id of ids) await putMessage(store, id);
  const jobs = await store.claimDue({ now: Date.now(), limit: 10, leaseMs: 60_000, owner: 'n1' });
  assert.equal(jobs.length, 6);
  assert.deepEqual(await store.checkWritable(), { writable: true, reason: null });

  await disk.fill();
  const before = await store.checkWritable();
  assert.equal(before.writable, false, 'no space left: not writable before any write failed');
  assert.match(before.reason ?? '', /bytes free/);

  // several puts in one turn share a group commit: all fail alike
  await Promise.all(Array.from({ length: 4 }, () => assert.rejects(putMessage(store, newQueueId()), unavailable)));
  await assert.rejects(putMessage(store, newQueueId(), INLINE_MAX_BYTES + 100_000), unavailable, 'a spooled body: ENOSPC');
  const delivered = (j: (typeof jobs)[number]): RecipientOutcome[] => j.recipients.map((r) => ({ rcptId: r.id, status: 'delivered', response: '250 ok' }));
  await Promise.all(jobs.map((j) => assert.rejects(store.recordResults(j.messageId, delivered(j), [], { owner: 'n1' }), unavailable)));
  await assert.rejects(store.recordHeartbeat({ nodeId: 'n1', startedAt: 1, lastSeenAt: 2, inFlight: 0 }), unavailable);
  const during = await store.checkWritable();
  assert.equal(during.writable, false);
  assert.match(during.reason ?? '', /writes failing since .* \((SQLITE_FULL|SQLITE_IOERR\w*|ENOSPC)\)/);
  assert.equal((await store.counts()).delivering, 6, 'reads still work; nothing was recorded');

  await disk.free();
  await Promise.all(jobs.map((j) => store.recordResults(j.messageId, delivered(j), [], { owner: 'n1' })));
  const counts = await store.counts();
  assert.equal(counts.delivered, 6);
  assert.equal(counts.delivering, 0);
  assert.equal(counts.queued, 0, 'no refused put was committed');
  // writable again after the first write that succeeds past the settle time (the heartbeat's job in the relay)
  for (let i = 0; !(await store.checkWritable()).writable; i++) {
    assert.ok(i < 100, 'writable again within 10 s of the space returning');
    await new Promise((r) => setTimeout(r, 100));
    await store.recordHeartbeat({ nodeId: 'n1', startedAt: 1, lastSeenAt: Date.now(), inFlight: 0 });
  }
  await putMessage(store, newQueueId(), INLINE_MAX_BYTES + 100_000);
  assert.equal((await store.counts()).queued, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(events.filter((e) => e.event === 'queue.unavailable').length, 1, 'the outage is logged once');
  assert.equal(events.filter((e) => e.event === 'queue.available').length, 1);
  assert.equal(events.filter((e) => e.event === 'queue.worker_died').length, 0);
  assert.equal(events.filter((e) => e.event === 'queue.write_failed').length, 0, 'no failure was left unclassified');
});
