// The scheduler without sockets: an in-memory store and a scripted runner, to check the slot
// accounting (total and per domain, including jobs claimed beyond a domain's free slots), fairness
// between domains, crash handling and graceful stop.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import type { DeliveryJob } from '../store/store.js';
import { fakeStore, job } from '../../test/helpers/scheduler-fixture.js';
import { DeliveryScheduler } from './scheduler.js';

const config = (perDest: number, concurrency: number, pollInterval = '50ms') => loadConfig({
  env: {},
  overrides: { 'delivery.maxConnectionsPerDestination': perDest, 'delivery.concurrency': concurrency, 'delivery.pollInterval': pollInterval,
    // Not about shaping: without it no MX lookup (a real DNS query here) delays a claim.
    'shaping.enabled': false },
});
const logger = createLogger('silent');

/** A runner whose jobs take a few ticks, recording concurrency per domain. */
function countingRunner() {
  const running = new Map<string, number>();
  const stats = { maxTotal: 0, maxPerDomain: 0, done: [] as string[], order: [] as string[], crashed: [] as string[] };
  let total = 0;
  return {
    stats,
    runner: {
      async run(j: DeliveryJob) {
        total++;
        running.set(j.domain, (running.get(j.domain) ?? 0) + 1);
        stats.order.push(j.domain);
        stats.maxTotal = Math.max(stats.maxTotal, total);
        stats.maxPerDomain = Math.max(stats.maxPerDomain, running.get(j.domain)!);
        for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
        running.set(j.domain, running.get(j.domain)! - 1);
        total--;
        stats.done.push(j.messageId);
      },
      async recordCrash(j: DeliveryJob) { stats.crashed.push(j.messageId); },
    },
  };
}

async function until(pred: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('DeliveryScheduler', () => {
  const mixed = () => [
    ...Array.from({ length: 20 }, (_, i) => job(i, 'big.test')),
    ...Array.from({ length: 5 }, (_, i) => job(100 + i, 'b.test')),
    ...Array.from({ length: 5 }, (_, i) => job(200 + i, 'c.test')),
  ];

  for (const greedy of [false, true]) {
    it(`holds the total and per-domain limits${greedy ? ' even when a claim returns too many jobs of one domain' : ''}`, async () => {
      const { store } = fakeStore(mixed(), greedy);
      const { runner, stats } = countingRunner();
      const s = new DeliveryScheduler({ config: config(2, 4), store, logger, nodeId: 'n1', runner });
      s.start();
      await until(() => stats.done.length === 30);
      await s.stop(100);
      assert.equal(stats.maxPerDomain, 2);
      assert.ok(stats.maxTotal <= 4);
      // The big domain cannot take every slot: other domains start before it is drained.
      assert.ok(stats.order.slice(0, 6).some((d) => d !== 'big.test'), stats.order.join(','));
    });
  }

  it('three schedulers on one store share the per-destination limit (destination slots), giving back jobs they cannot start', async () => {
    const { store, pending } = fakeStore(mixed());
    const { runner, stats } = countingRunner(); // counts over all three nodes
    const nodes = ['n1', 'n2', 'n3'].map((nodeId) => new DeliveryScheduler({ config: config(2, 4), store, logger, nodeId, runner }));
    nodes.forEach((n) => n.start());
    await until(() => stats.done.length === 30);
    await Promise.all(nodes.map((n) => n.stop(100)));
    assert.equal(stats.maxPerDomain, 2, 'at most 2 per domain over the three nodes, and the limit was reached');
    assert.equal(new Set(stats.done).size, 30, 'each job run once');
    assert.equal(pending.length, 0);
    assert.equal(await store.releaseDestinationSlots('n1') + await store.releaseDestinationSlots('n2') + await store.releaseDestinationSlots('n3'), 0,
      'stop() released every slot');
  });

  /** The store with its claims counted. */
  const counted = (jobs: DeliveryJob[]) => {
    const f = fakeStore(jobs);
    const claimDue = f.store.claimDue.bind(f.store);
    const claims = { n: 0 };
    f.store.claimDue = (o) => { claims.n++; return claimDue(o); };
    return { ...f, claims };
  };

  it('a finished job does not claim again when the last claim found nothing else due (an empty claim per completion on every node)', async () => {
    const { store, claims } = counted([job(1, 'a.test')]);
    const { runner, stats } = countingRunner();
    const s = new DeliveryScheduler({ config: config(2, 4, '1h'), store, logger, nodeId: 'n1', runner });
    s.start();
    await until(() => stats.done.length === 1);
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    assert.equal(claims.n, 1, 'the start claimed; the completion did not');
    s.notify(); // new mail here: claims whatever was left
    await until(() => claims.n === 2);
    await s.stop(100);
  });

  it('a finished job whose result queued mail (a DSN) claims again at once, without waiting for the poll', async () => {
    const { store, pending, claims } = counted([job(1, 'a.test')]);
    const dsn = job(2, 'sender.test');
    const done: string[] = [];
    const runner = {
      // The first job's record queues a DSN (recordResults puts it; no intake notify): it says so.
      async run(j: DeliveryJob) {
        await new Promise((r) => setImmediate(r));
        done.push(j.messageId);
        if (j.messageId !== 'M1') return false;
        pending.push(dsn);
        return true;
      },
      async recordCrash() { throw new Error('not expected'); },
    };
    const s = new DeliveryScheduler({ config: config(2, 4, '1h'), store, logger, nodeId: 'n1', runner });
    s.start();
    await until(() => done.length === 2); // the poll (1 h) would never have picked it up
    assert.deepEqual(done, ['M1', 'M2']);
    assert.equal(claims.n, 2, 'the start claimed, the completion that queued the DSN claimed; the DSN\'s own completion did not');
    await s.stop(100);
  });

  it('a finished job of a domain the last claim excluded (full) claims again at once, without waiting for the poll', async () => {
    const { store } = counted([job(1, 'a.test'), job(2, 'a.test')]);
    const { runner, stats } = countingRunner();
    const s = new DeliveryScheduler({ config: config(1, 2, '1h'), store, logger, nodeId: 'n1', runner });
    s.start();
    await until(() => stats.done.length === 2);
    await s.stop(100);
  });

  it('records a job that throws as a crash (deferred), never dropping it', async () => {
    const { store } = fakeStore([job(1, 'a.test'), job(2, 'a.test')]);
    const crashed: string[] = [];
    const runner = {
      async run(j: DeliveryJob) { if (j.messageId === 'M1') throw new TypeError('bug'); },
      async recordCrash(j: DeliveryJob) { crashed.push(j.messageId); },
    };
    const s = new DeliveryScheduler({ config: config(2, 4), store, logger, nodeId: 'n1', runner });
    s.start();
    await until(() => crashed.length === 1);
    await s.stop(100);
    assert.deepEqual(crashed, ['M1']);
  });

  it('stop() waits, then aborts stuck jobs and releases its leases', async () => {
    const { store, released } = fakeStore([job(1, 'a.test')]);
    let aborted = false;
    let started = false;
    const runner = {
      run: (_j: DeliveryJob, signal: AbortSignal) => new Promise<void>((_resolve, reject) => {
        started = true;
        signal.addEventListener('abort', () => { aborted = true; reject(new Error('aborted')); });
      }),
      async recordCrash() { throw new Error('must not record an aborted job'); },
    };
    const s = new DeliveryScheduler({ config: config(2, 4), store, logger, nodeId: 'n1', runner });
    s.start();
    await until(() => started);
    await s.stop(50); // the attempt never ends on its own: stop returning at all is the bound
    assert.ok(aborted);
    assert.deepEqual(released, ['n1']);
  });
});
