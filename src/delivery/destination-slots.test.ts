// Slot renewal when the store is slow: a renewal that has not come back yet is not joined by
// another. Renewals run every leaseTime/3; on a slow disk one can take longer than that, and
// overlapping renewals of one node (identical multi-row UPDATEs) deadlock on PostgreSQL (40P01,
// counted as an outage: /readyz 503, delivery paused) and fill the connection pool
// (test/e2e/slow-disk.test.ts: the server log showed a deadlock every second).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { systemClock } from '../clock.js';
import { createLogger } from '../events/log.js';
import type { AcquireSlotsOptions, DestinationSlot } from '../store/store.js';
import { DestinationSlots } from './destination-slots.js';

it('a slow renewal is not overlapped by the next one', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const state = { renewals: 0, inFlight: 0, maxInFlight: 0 };
  let finish!: () => void;
  const slow = new Promise<void>((resolve) => { finish = resolve; });
  const store = {
    async acquireDestinationSlots(o: AcquireSlotsOptions): Promise<DestinationSlot[]> {
      return o.requests.flatMap((r) => Array.from({ length: r.want }, (_, slot) => ({ destination: r.destination, slot })));
    },
    async renewDestinationSlots(): Promise<DestinationSlot[]> {
      state.renewals++;
      state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
      await slow;
      state.inFlight--;
      return [{ destination: 'x.test', slot: 0 }];
    },
    async releaseDestinationSlots(): Promise<number> { return 1; },
  };
  const slots = new DestinationSlots({
    store, owner: 'n1', limit: 2, leaseMs: 60, fullBackoffMs: 10, clock: systemClock, logger: createLogger('silent', new PassThrough()),
  });
  await slots.acquire(new Map([['x.test', 1]]));
  assert.equal(slots.held('x.test'), 1);
  for (let i = 0; i < 15; i++) { // fifteen renewal periods (20 ms) while the first renewal hangs
    t.mock.timers.tick(20);
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(state.renewals >= 1, 'renewed');
  assert.equal(state.maxInFlight, 1, `renewals in flight at once (${state.renewals} started)`);
  finish();
  await slots.stop();
});
