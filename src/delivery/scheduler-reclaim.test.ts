// The scheduler never runs a job twice at once. A claim can return a job this node is still
// running: its lease expired meanwhile — on a slow disk the claim's own commit can take longer than
// the lease, so the job arrives already expired, and the next claim (or a result recorded late)
// finds it due again. The store hands it to us again; starting it again would deliver it twice
// (test/e2e/slow-disk.test.ts saw three duplicates in 35 messages on SQLite). The running one
// records the outcome (the lease still names us), so the copy is dropped.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import { InProcessSlots } from '../store/in-process-slots.js';
import type { AcquireSlotsOptions, DeliveryJob, DestinationSlot, QueueStore } from '../store/store.js';
import { DeliveryScheduler } from './scheduler.js';

const config = loadConfig({ env: {}, overrides: { 'delivery.pollInterval': '10ms', 'shaping.enabled': false } }); // no MX lookups

const job = (): DeliveryJob => ({
  messageId: 'M1', domain: 'x.test', mailFrom: 'a@x.test', returnPath: 'a@x.test', isBounce: false, route: 'relay', size: 1, receivedAt: 0,
  recipients: [{ id: 1, address: 'r1@x.test', attempts: 0 }], leaseUntil: 0, delayNotified: false, account: 'default', stream: 'transactional',
});

it('a job claimed again while it still runs here (its lease expired) is not started a second time', async () => {
  const state = { claims: 0, recorded: false };
  const slots = new InProcessSlots();
  const store = {
    // Like a store whose lease for M1 has run out: every claim until the result is recorded returns it.
    async claimDue() { state.claims++; return state.recorded ? [] : [job()]; },
    async nextDueAt() { return state.recorded ? null : 0; },
    async releaseLeases() { return 0; },
    async acquireDestinationSlots(o: AcquireSlotsOptions) { return slots.acquire(o); },
    async renewDestinationSlots(o: { owner: string; now: number; leaseMs: number }) { return slots.renew(o); },
    async releaseDestinationSlots(owner: string, which?: DestinationSlot[]) { return slots.release(owner, which); },
    async unclaimJobs() { return 0; },
  } as unknown as QueueStore;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  const ran: string[] = [];
  const runner = {
    async run(j: DeliveryJob) { ran.push(j.messageId); await finished; state.recorded = true; },
    async recordCrash() { throw new Error('not expected'); },
  };
  const scheduler = new DeliveryScheduler({ config, store, logger: createLogger('silent', new PassThrough()), nodeId: 'n1', runner });
  scheduler.start();
  const deadline = Date.now() + 10_000;
  while (state.claims < 5) { // several claims return M1 while it runs
    if (Date.now() > deadline) throw new Error('the scheduler did not claim again');
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(ran, ['M1'], 'started once');
  finish();
  await scheduler.stop(1000);
  assert.deepEqual(ran, ['M1'], 'delivered once');
});
