// The traffic-shaping part of the QueueStore contract: provider suspensions (shared by every node
// on PostgreSQL), run by queueStoreContract against every implementation. Times are literals.
import assert from 'node:assert/strict';
import type { QueueStore } from '../../src/store/store.js';

type It = (title: string, body: (store: QueueStore) => Promise<void>) => void;

const T0 = 1_700_000_000_000;

export function shapingContract(it: It): void {
  it('suspensions: recorded per provider and source, listed while running, the later end kept', async (store) => {
    assert.deepEqual(await store.listSuspensions(T0), []);
    await store.recordSuspension({ provider: 'gmail', source: 'default', until: T0 + 60_000, reason: 'gmail-rate-limited', at: T0 });
    await store.recordSuspension({ provider: 'yahoo', source: 'default', until: T0 + 10_000, reason: 'yahoo-volume', at: T0 });
    await store.recordSuspension({ provider: 'gmail', source: 'default', until: T0 + 30_000, reason: 'rate-limited', at: T0 + 1 });
    assert.deepEqual(await store.listSuspensions(T0), [
      { provider: 'gmail', source: 'default', until: T0 + 60_000, reason: 'gmail-rate-limited', at: T0 },
      { provider: 'yahoo', source: 'default', until: T0 + 10_000, reason: 'yahoo-volume', at: T0 },
    ]);
    await store.recordSuspension({ provider: 'gmail', source: 'default', until: T0 + 90_000, reason: 'gmail-unauthenticated', at: T0 + 2 });
    assert.deepEqual(await store.listSuspensions(T0 + 10_000), [
      { provider: 'gmail', source: 'default', until: T0 + 90_000, reason: 'gmail-unauthenticated', at: T0 + 2 },
    ]);
    assert.deepEqual(await store.listSuspensions(T0 + 90_000), []);
  });
}
