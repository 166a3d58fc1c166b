// The scheduler while the queue store is unreachable, without sockets: claims fail with
// QueueUnavailableError, so delivery pauses (logged once however often it retries or is
// notified), retries with the backoff, resumes (logged once) when claims work again, and a job
// whose result could not be recorded is left to its lease rather than recorded as a crash. While
// the runner holds an outcome the store could not take yet, nothing is claimed (results first).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { QueueUnavailableError } from '../errors.js';
import { createLogger } from '../events/log.js';
import { InProcessSlots } from '../store/in-process-slots.js';
import type { AcquireSlotsOptions, DeliveryJob, DestinationSlot, QueueStore } from '../store/store.js';
import { DeliveryScheduler } from './scheduler.js';

const config = loadConfig({ env: {}, overrides: { 'delivery.pollInterval': '20ms', 'shaping.enabled': false } }); // no MX lookups

const job = (n: number): DeliveryJob => ({
  messageId: `M${n}`, domain: 'x.test', mailFrom: 'a@x.test', returnPath: 'a@x.test', isBounce: false, route: 'relay', size: 1, receivedAt: 0,
  recipients: [{ id: n, address: `r${n}@x.test`, attempts: 0 }], leaseUntil: 0, delayNotified: false, account: 'default', stream: 'transactional',
});

function harness(jobs: DeliveryJob[], runnerOf?: (ran: string[]) => ConstructorParameters<typeof DeliveryScheduler>[0]['runner']) {
  const state = { down: true, claims: 0, polls: 0, pending: [...jobs] };
  const unavailable = () => new QueueUnavailableError('queue claimDue failed: database unavailable');
  const slots = new InProcessSlots();
  const store = {
    async claimDue(o: { limit: number }) {
      state.claims++;
      if (state.down) throw unavailable();
      return state.pending.splice(0, o.limit);
    },
    async nextDueAt() { state.polls++; if (state.down) throw unavailable(); return state.pending.length ? 0 : null; },
    async releaseLeases() { if (state.down) throw unavailable(); return 0; },
    async acquireDestinationSlots(o: AcquireSlotsOptions) { if (state.down) throw unavailable(); return slots.acquire(o); },
    async renewDestinationSlots(o: { owner: string; now: number; leaseMs: number }) { if (state.down) throw unavailable(); return slots.renew(o); },
    async releaseDestinationSlots(owner: string, which?: DestinationSlot[]) { if (state.down) throw unavailable(); return slots.release(owner, which); },
    async unclaimJobs() { throw new Error('not expected'); },
  } as unknown as QueueStore;
  const out = new PassThrough();
  const events: string[] = [];
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) events.push((JSON.parse(l) as { event: string }).event); });
  const ran: string[] = [];
  const crashed: string[] = [];
  const runner = {
    async run(j: DeliveryJob) { ran.push(j.messageId); if (j.messageId === 'M0') throw unavailable(); },
    async recordCrash(j: DeliveryJob) { crashed.push(j.messageId); },
  };
  const scheduler = new DeliveryScheduler({ config, store, logger: createLogger('info', out), nodeId: 'n1', runner: runnerOf?.(ran) ?? runner });
  return { state, scheduler, events, ran, crashed };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await tick(5);
  }
}

describe('DeliveryScheduler while the queue store is unavailable', () => {
  it('pauses once, ignores notify() while paused, resumes once, and runs the due work', async () => {
    const h = harness([job(0), job(1), job(2)]);
    h.scheduler.start();
    await until(() => h.state.claims >= 2); // the first claim, then at least one backoff retry
    const before = h.state.claims;
    for (let i = 0; i < 20; i++) h.scheduler.notify(); // new mail or freed slots must not bypass the backoff
    await tick(10);
    assert.equal(h.state.claims, before, 'notify() while paused does not claim');
    assert.equal(h.events.filter((e) => e === 'delivery.paused').length, 1);
    assert.ok(!h.events.includes('delivery.claim_failed'));

    h.state.down = false;
    await until(() => h.ran.length === 3);
    await until(() => h.events.includes('delivery.resumed'));
    assert.equal(h.events.filter((e) => e === 'delivery.paused').length, 1, 'one paused line for the whole outage');
    assert.equal(h.events.filter((e) => e === 'delivery.resumed').length, 1);
    assert.deepEqual(h.crashed, [], 'a result the store could not take is left to the lease, not recorded as a crash');
    await h.scheduler.stop(1000);
  });

  it('stops cleanly while the store is down: releasing leases fails with a warning, not an error', async () => {
    const h = harness([]);
    h.scheduler.start();
    await until(() => h.events.includes('delivery.paused'));
    await h.scheduler.stop(1000);
    await tick(10);
    assert.ok(h.events.includes('delivery.release_failed'));
    assert.ok(h.events.includes('delivery.stopped'));
  });

  it('claims nothing while an outcome is held for the store, then claims again once it is recorded', async () => {
    let held = 0;
    let record!: () => void;
    const recorded = new Promise<void>((resolve) => { record = resolve; });
    const h = harness([job(0)], (ran) => ({
      get heldOutcomes() { return held; },
      async run(j: DeliveryJob) {
        ran.push(j.messageId);
        if (j.messageId !== 'M0') return;
        held = 1; // delivered; the store refused the result: kept in memory (record-retry.ts)
        await recorded;
        held = 0;
      },
      async recordCrash() { throw new Error('not expected'); },
    }));
    h.state.down = false;
    h.scheduler.start();
    await until(() => h.ran.includes('M0'));
    const claims = h.state.claims;
    h.state.pending.push(job(1), job(2)); // due now, e.g. M0's own recipients after its lease expired
    h.scheduler.notify();
    const polls = h.state.polls;
    await until(() => h.state.polls >= polls + 3); // three more scheduling rounds (pollInterval 20 ms)
    assert.equal(h.state.claims, claims, 'no claim while an outcome is held');
    assert.deepEqual(h.ran, ['M0']);
    record();
    await until(() => h.ran.length === 3);
    assert.deepEqual(h.ran, ['M0', 'M1', 'M2']);
    await h.scheduler.stop(1000);
  });
});
