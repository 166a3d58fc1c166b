// The history reads' queue (fair-queue.ts): one task at a time, accounts in turns, an account's own
// tasks in call order. Tasks are held open by hand and released one by one: no timers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../clock.js';
import { configSchema } from '../config/schema.js';
import { DnsLookupError, type MxResolver } from '../delivery/resolver.js';
import type { EventQuery, MessageEvent } from '../store/platform-store.js';
import { fairQueue } from './fair-queue.js';
import { createVerifier } from './index.js';

/** A queue whose tasks record when they start and finish only when released. */
function harness() {
  const queue = fairQueue();
  const started: string[] = [];
  const open = new Map<string, () => void>();
  let inFlight = 0;
  let maxInFlight = 0;
  const add = (account: string, name: string, fail = false) => queue(account, () => new Promise<string>((resolve, reject) => {
    started.push(name);
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    open.set(name, () => { inFlight--; if (fail) reject(new Error(`${name} failed`)); else resolve(name); });
  }));
  /** Lets the queue move on: microtasks only. */
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const release = async (name: string) => {
    const done = open.get(name);
    assert.ok(done, `${name} is running (started: ${started.join(' ')})`);
    open.delete(name);
    done();
    await settle();
  };
  return { add, started, release, settle, running: () => [...open.keys()], maxInFlight: () => maxInFlight };
}

describe('fairQueue (verification history reads)', () => {
  it("runs account B's one read after A's current read, not after all of A's queued reads", async () => {
    const h = harness();
    const a = Array.from({ length: 6 }, (_, i) => h.add('a', `a${i + 1}`));
    const b = h.add('b', 'b1');
    await h.settle();
    assert.deepEqual(h.running(), ['a1'], 'one at a time');
    await h.release('a1');
    assert.deepEqual(h.running(), ['b1'], 'B is next: A just had its turn');
    await h.release('b1');
    assert.equal(await b, 'b1');
    for (const name of ['a2', 'a3', 'a4', 'a5', 'a6']) await h.release(name);
    assert.deepEqual(await Promise.all(a), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    assert.deepEqual(h.started, ['a1', 'b1', 'a2', 'a3', 'a4', 'a5', 'a6']);
    assert.equal(h.maxInFlight(), 1);
  });

  it('rotates between every account waiting, FIFO within each, one in flight', async () => {
    const h = harness();
    const all = [
      h.add('a', 'a1'), h.add('a', 'a2'), h.add('a', 'a3'),
      h.add('b', 'b1'), h.add('b', 'b2'),
      h.add('c', 'c1'),
    ];
    await h.settle();
    while (h.running().length) await h.release(h.running()[0]!);
    await Promise.all(all);
    assert.deepEqual(h.started, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    assert.equal(h.maxInFlight(), 1);
    // Idle again: a new task starts at once.
    const late = h.add('c', 'c2');
    await h.settle();
    assert.deepEqual(h.running(), ['c2']);
    await h.release('c2');
    assert.equal(await late, 'c2');
  });

  it("an account arriving later waits for one turn of each account already waiting, not for their queues", async () => {
    const h = harness();
    const all = [h.add('a', 'a1'), h.add('a', 'a2'), h.add('a', 'a3'), h.add('b', 'b1'), h.add('b', 'b2')];
    await h.settle();
    await h.release('a1'); // b1 runs
    all.push(h.add('c', 'c1'));
    while (h.running().length) await h.release(h.running()[0]!);
    await Promise.all(all);
    assert.deepEqual(h.started, ['a1', 'b1', 'a2', 'c1', 'b2', 'a3']);
  });

  it('a failed task rejects its caller only, and the queue moves on', async () => {
    const h = harness();
    const failing = assert.rejects(h.add('a', 'a1', true), /a1 failed/);
    const after = h.add('b', 'b1');
    await h.settle();
    await h.release('a1');
    await failing;
    await h.release('b1');
    assert.equal(await after, 'b1');
  });
});

describe('createVerifier: history reads take turns between accounts', () => {
  it("account B's one verification reads its history after one of A's 20 reads, not after all of them", async () => {
    const started: string[] = [];
    const open: (() => void)[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const store = {
      listSuppressions: async () => [],
      listEvents: (q: EventQuery) => new Promise<MessageEvent[]>((resolve) => {
        started.push(`${q.account} ${q.recipient}`);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        open.push(() => { inFlight--; resolve([]); });
      }),
    };
    const nxdomain = (name: string, type: string) => Promise.reject(new DnsLookupError('nxdomain', name, type, 'ENOTFOUND'));
    const resolver: MxResolver = { resolveMx: (d) => nxdomain(d, 'MX'), resolve4: (h) => nxdomain(h, 'A'), resolve6: (h) => nxdomain(h, 'AAAA') };
    const verifier = createVerifier({ config: configSchema.parse({}), store: store as never, resolver, clock: systemClock });
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

    const a = verifier.verify('a', Array.from({ length: 20 }, (_, i) => `user${i}@a.example`));
    await settle();
    const b = verifier.verify('b', ['only@b.example']);
    await settle();
    assert.deepEqual(started, ['a user0@a.example'], 'one read in flight');
    let bDone = false;
    void b.then(() => { bDone = true; });
    open.shift()!();
    await settle();
    assert.equal(started[1], 'b only@b.example', `B's read is next (started: ${started.join(', ')})`);
    open.shift()!();
    await settle();
    assert.ok(bDone, "B's verification is answered while A's reads are still queued");
    assert.equal((await b)[0]!.address, 'only@b.example');
    while (open.length) { open.shift()!(); await settle(); }
    assert.equal((await a).length, 20);
    assert.equal(started.length, 21);
    assert.equal(maxInFlight, 1);
  });
});
