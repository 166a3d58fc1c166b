// The destination-slot part of the QueueStore contract (cluster-wide per-destination concurrency)
// and unclaimJobs, run by queueStoreContract against every implementation. Only the interface is
// used; times are fixed literals passed in.
import assert from 'node:assert/strict';
import { newQueueId } from '../../src/message/ids.js';
import type { DestinationSlot, QueueStore } from '../../src/store/store.js';

type It = (title: string, body: (store: QueueStore) => Promise<void>) => void;

const T0 = 1_700_000_000_000;
const LEASE = 10_000;

const acquire = (store: QueueStore, owner: string, requests: { destination: string; want: number }[], now = T0, limit = 2) =>
  store.acquireDestinationSlots({ owner, requests, limit, now, leaseMs: LEASE });

const sorted = (slots: DestinationSlot[]) =>
  slots.map((s) => `${s.destination}#${s.slot}`).sort();

export function destinationSlotContract(it: It): void {
  it('slots: at most `limit` per destination over every owner, per destination independently', async (store) => {
    const a = await acquire(store, 'node-a', [{ destination: 'one.example', want: 3 }, { destination: 'two.example', want: 1 }]);
    assert.deepEqual(sorted(a), ['one.example#0', 'one.example#1', 'two.example#0']);
    const b = await acquire(store, 'node-b', [{ destination: 'one.example', want: 1 }, { destination: 'two.example', want: 5 }]);
    assert.deepEqual(sorted(b), ['two.example#1'], 'one.example is full; two.example had one slot left');
    assert.deepEqual(await acquire(store, 'node-a', [{ destination: 'two.example', want: 1 }]), []);
    assert.deepEqual(await acquire(store, 'node-c', [{ destination: 'ONE.example', want: 1 }]), [], 'destinations are case-insensitive');
    assert.deepEqual(await acquire(store, 'node-c', []), []);
  });

  it('slots: released ones can be acquired again, by anyone; release of others\' slots does nothing', async (store) => {
    const a = await acquire(store, 'node-a', [{ destination: 'one.example', want: 2 }]);
    assert.equal(await store.releaseDestinationSlots('node-b', a), 0, 'node-b does not hold them');
    assert.equal(await store.releaseDestinationSlots('node-a', [a[0]!]), 1);
    assert.deepEqual(sorted(await acquire(store, 'node-b', [{ destination: 'one.example', want: 2 }])), [`one.example#${a[0]!.slot}`]);
    assert.equal(await store.releaseDestinationSlots('node-a'), 1, 'all of node-a\'s remaining slots');
    assert.equal((await acquire(store, 'node-c', [{ destination: 'one.example', want: 2 }])).length, 1);
  });

  it('slots: an expired lease is reclaimable; renewal keeps it and reports what is still held', async (store) => {
    await acquire(store, 'node-a', [{ destination: 'one.example', want: 1 }], T0, 1);
    assert.deepEqual(await acquire(store, 'node-b', [{ destination: 'one.example', want: 1 }], T0 + LEASE, 1), [], 'still leased at its last ms');
    const renewed = await store.renewDestinationSlots({ owner: 'node-a', now: T0 + 5_000, leaseMs: LEASE });
    assert.deepEqual(sorted(renewed), ['one.example#0']);
    assert.deepEqual(await acquire(store, 'node-b', [{ destination: 'one.example', want: 1 }], T0 + LEASE + 1, 1), [], 'renewed: not expired');
    // node-a stops renewing (dead): after its lease the slot is node-b's.
    const taken = await acquire(store, 'node-b', [{ destination: 'one.example', want: 1 }], T0 + 5_000 + LEASE + 1, 1);
    assert.deepEqual(sorted(taken), ['one.example#0']);
    assert.deepEqual(await store.renewDestinationSlots({ owner: 'node-a', now: T0 + 20_000, leaseMs: LEASE }), [], 'node-a lost it');
    assert.equal(await store.releaseDestinationSlots('node-a'), 0);
    assert.deepEqual(sorted(await store.renewDestinationSlots({ owner: 'node-b', now: T0 + 20_000, leaseMs: LEASE })), ['one.example#0']);
  });

  it('slots: a smaller limit only hands out the lower slots', async (store) => {
    await acquire(store, 'node-a', [{ destination: 'one.example', want: 4 }], T0, 4);
    await store.releaseDestinationSlots('node-a', [{ destination: 'one.example', slot: 0 }, { destination: 'one.example', slot: 3 }]);
    assert.deepEqual(sorted(await acquire(store, 'node-b', [{ destination: 'one.example', want: 4 }], T0, 2)), ['one.example#0']);
  });

  it('unclaimJobs: a claimed job given back unstarted is due again, without an attempt', async (store) => {
    const id = newQueueId();
    const w = store.createBody(id);
    await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
    await w.finish();
    await store.put({ id, mailFrom: 's@example.org', recipients: ['a@one.example', 'b@two.example'], size: w.bytesWritten, receivedAt: T0,
      origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    const jobs = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    assert.equal(jobs.length, 2);
    const one = jobs.find((j) => j.domain === 'one.example')!;
    assert.equal(await store.unclaimJobs('node-b', [one]), 0, 'not node-b\'s');
    assert.equal(await store.unclaimJobs('node-a', [one]), 1);
    const again = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'node-b' });
    assert.deepEqual(again.map((j) => j.domain), ['one.example']);
    assert.equal(again[0]!.recipients[0]!.attempts, 0);
    assert.equal((await store.counts()).delivering, 2);
  });

  it('unclaimJobs with dueAt (a throttled provider): due no earlier than dueAt, still without an attempt', async (store) => {
    const id = newQueueId();
    const w = store.createBody(id);
    await w.write(Buffer.from('Subject: t\r\n\r\nhi\r\n'));
    await w.finish();
    await store.put({ id, mailFrom: 's@example.org', recipients: ['a@three.example'], size: w.bytesWritten, receivedAt: T0,
      origin: { listener: 'submission', clientIp: '127.0.0.1', user: null }, isBounce: false, route: 'relay' });
    const [job] = await store.claimDue({ now: T0, limit: 10, leaseMs: 60_000, owner: 'node-a' });
    assert.equal(await store.unclaimJobs('node-a', [job!], T0 + 30_000), 1);
    assert.deepEqual(await store.claimDue({ now: T0 + 29_999, limit: 10, leaseMs: 60_000, owner: 'node-b' }), []);
    assert.equal(await store.nextDueAt(), T0 + 30_000);
    const again = await store.claimDue({ now: T0 + 30_000, limit: 10, leaseMs: 60_000, owner: 'node-b' });
    assert.deepEqual(again.map((j) => [j.domain, j.recipients[0]!.attempts]), [['three.example', 0]]);
  });
}
