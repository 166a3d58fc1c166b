// The egress source contract (issue 11), run against every QueueStore: run-time sources and the
// live state of any source (drain, pause) are stored and seen by another node; warmup counters
// never pass their cap, even with many concurrent takers; and a claimed job postponed for want of
// a source waits until the given time with no attempt counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newQueueId } from '../../src/message/ids.js';
import type { NewMessage, QueueStore } from '../../src/store/store.js';

export type MakeSourceStore = () => Promise<{ store: QueueStore; openPeer: () => Promise<QueueStore>; cleanup: () => Promise<void> }>;

const origin = { listener: 'submission', clientIp: '127.0.0.1', user: null };

async function enqueue(store: QueueStore, rcpt: string, receivedAt: number): Promise<string> {
  const id = newQueueId();
  const w = store.createBody(id);
  await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
  await w.finish();
  const m: NewMessage = { id, mailFrom: 'a@sender.example', recipients: [rcpt], size: w.bytesWritten, receivedAt, origin, isBounce: false, route: 'relay' };
  await store.put(m);
  return id;
}

export function sourceStoreContract(name: string, makeStore: MakeSourceStore): void {
  const it = (title: string, body: (store: QueueStore, openPeer: () => Promise<QueueStore>) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { store, openPeer, cleanup } = await makeStore();
      try { await body(store, openPeer); } finally { await cleanup(); }
    });

  it('sources: a run-time source is added once; states of config and run-time sources are seen by another node', async (store, openPeer) => {
    const def = { name: 'mta3', address: '127.0.0.4', ehlo: 'mta3.example.net', pool: 'bulk', warmupSchedule: 'stock', warmupStart: '2026-12-01' };
    assert.equal(await store.addSource(def, 1000), true);
    assert.equal(await store.addSource({ ...def, address: '127.0.0.5' }, 1001), false, 'a name is added once');
    await store.setSourceState('mta1', 'paused', 2000); // a config source: only its state is stored
    await store.setSourceState('mta3', 'draining', 2001);
    const peer = await openPeer();
    const seen = await peer.listSources();
    assert.deepEqual(seen.map((s) => [s.name, s.state, s.address, s.pool]), [['mta1', 'paused', null, null], ['mta3', 'draining', '127.0.0.4', 'bulk']]);
    assert.deepEqual(seen[1], { ...def, state: 'draining', updatedAt: 2001 });
    await peer.setSourceState('mta1', 'active', 3000);
    assert.equal((await store.listSources())[0]!.state, 'active');
  });

  it('warmup: concurrent takes never pass the cap; counters are per source, provider and day', async (store, openPeer) => {
    const peer = await openPeer();
    const takes = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? peer : store).takeWarmup('mta1', 'gmail', 20_000, 7)));
    assert.equal(takes.filter(Boolean).length, 7);
    assert.equal(await store.takeWarmup('mta1', 'gmail', 20_000, 7), false, 'full for the day');
    assert.equal(await store.takeWarmup('mta1', 'gmail', 20_000, 8), true, 'a higher cap (a new step) allows more');
    assert.equal(await store.takeWarmup('mta1', 'yahoo', 20_000, 7), true, 'another provider has its own count');
    assert.equal(await store.takeWarmup('mta2', 'gmail', 20_000, 7), true, 'another source has its own count');
    assert.equal(await store.takeWarmup('mta1', 'gmail', 20_001, 7), true, 'the next day starts at zero');
    assert.equal(await store.takeWarmup('mta1', 'other', 20_000, 0), false, 'a cap of 0 takes nothing');
    assert.deepEqual(await store.readWarmup(20_000), [
      { source: 'mta1', provider: 'gmail', day: 20_000, n: 8 }, { source: 'mta1', provider: 'yahoo', day: 20_000, n: 1 },
      { source: 'mta2', provider: 'gmail', day: 20_000, n: 1 },
    ]);
    assert.equal(await store.purgeWarmup(20_001), 3);
    assert.deepEqual(await store.readWarmup(20_000), []);
    assert.equal((await store.readWarmup(20_001)).length, 1);
  });

  it('recordResults keeps the egress source on the attempt and on the event', async (store) => {
    const now = Date.now();
    const id = await enqueue(store, 'r@dest.example', now - 1000);
    const [job] = await store.claimDue({ now, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    await store.recordResults(id, [{ rcptId: job!.recipients[0]!.id, status: 'delivered', response: '250 ok', host: 'mx.dest.example', source: 'mta2' }], [], { owner: 'node-a' });
    assert.deepEqual((await store.getMessage(id))!.attempts.map((a) => [a.status, a.host, a.source]), [['delivered', 'mx.dest.example', 'mta2']]);
    const events = await store.listEvents({ account: 'default', messageId: id, types: ['delivered'] });
    assert.equal(events[0]?.data.source, 'mta2');
  });

  it('postponeJobs: the job waits until the given time, no attempt counted, and only the owner\'s lease is given back', async (store) => {
    const now = Date.now();
    const id = await enqueue(store, 'r@dest.example', now - 1000);
    const [job] = await store.claimDue({ now, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    assert.equal(job?.messageId, id);
    assert.equal(await store.postponeJobs('node-b', [{ messageId: id, domain: 'dest.example' }], now + 3_600_000, now), 0, 'not node-b\'s lease');
    assert.equal(await store.postponeJobs('node-a', [{ messageId: id, domain: 'DEST.example' }], now + 3_600_000, now), 1);
    assert.deepEqual(await store.claimDue({ now: now + 1000, limit: 10, leaseMs: 60_000, owner: 'node-a' }), [], 'not due before the time');
    const [again] = await store.claimDue({ now: now + 3_600_000, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    assert.equal(again?.messageId, id);
    assert.equal(again!.recipients[0]!.attempts, 0, 'no attempt counted');
    const m = await store.getMessage(id);
    assert.equal(m!.attempts.length, 0, 'no attempt in the history');
  });
}
