// The slow lane's accounting in the scheduler (slow-lane.ts), without sockets: an in-memory store
// and a runner whose jobs end when the test says. Attempts past delivery.slowAttemptAfter free
// their delivery.concurrency slot while the slow lane (delivery.maxSlowAttempts) has room; the
// slow lane's cap holds; a destination with slow attempts gets at most slowDestinationConnections
// younger ones; nothing is left counted when attempts end, throw, or the scheduler stops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../events/log.js';
import type { DeliveryJob } from '../store/store.js';
import { fakeStore, job } from '../../test/helpers/scheduler-fixture.js';
import { DeliveryScheduler } from './scheduler.js';
import { SlowLane } from './slow-lane.js';

const SLOW_MS = 150;

const config = (o: Record<string, unknown> = {}) => loadConfig({
  env: {},
  overrides: {
    'delivery.concurrency': 4, 'delivery.maxConnectionsPerDestination': 10, 'delivery.pollInterval': '50ms',
    'delivery.slowAttemptAfter': `${SLOW_MS}ms`, 'shaping.enabled': false, ...o,
  },
});

/** Jobs run until `finish(id)` (or `fail(id)`), or until the stop signal aborts them. */
function heldRunner() {
  const ends = new Map<string, { ok: () => void; fail: (e: unknown) => void }>();
  const started: string[] = [];
  const crashed: string[] = [];
  return {
    started, crashed,
    running: () => [...ends.keys()],
    finish: (id: string) => { ends.get(id)!.ok(); ends.delete(id); },
    fail: (id: string) => { ends.get(id)!.fail(new Error('boom')); ends.delete(id); },
    runner: {
      run(j: DeliveryJob, signal: AbortSignal) {
        started.push(j.messageId);
        return new Promise<void>((ok, fail) => {
          ends.set(j.messageId, { ok, fail });
          signal.addEventListener('abort', () => { ends.delete(j.messageId); fail(new Error('aborted')); }, { once: true });
        });
      },
      async recordCrash(j: DeliveryJob) { crashed.push(j.messageId); },
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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(jobs: DeliveryJob[], o: Record<string, unknown> = {}) {
  const { store, pending } = fakeStore(jobs);
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const x of chunk.toString().split('\n')) if (x) logs.push(JSON.parse(x) as Record<string, unknown>); cb(); } });
  const r = heldRunner();
  const slowSeen: string[] = [];
  const s = new DeliveryScheduler({
    config: config(o), store, logger: createLogger('info', sink), nodeId: 'n1', runner: r.runner,
    onSlowAttempt: (d) => slowSeen.push(d),
  });
  s.start();
  return { s, r, pending, logs, slowSeen };
}

describe('DeliveryScheduler: the slow lane', () => {
  it('attempts past slowAttemptAfter free their concurrency slot; the slow lane cap holds; slots come back when they end', async () => {
    // 6 slow destinations (one job each), then 2 good ones; concurrency 4, slow lane 2.
    const jobs = [...[1, 2, 3, 4, 5, 6].map((n) => job(n, `evil${n}.test`)), job(7, 'good.test'), job(8, 'good.test')];
    const { s, r, pending, logs, slowSeen } = start(jobs, { 'delivery.maxSlowAttempts': 2 });
    try {
      await until(() => r.started.length === 4);
      assert.deepEqual(s.lanes, { fast: 4, slow: 0 });
      // After the threshold: 2 of the 4 move into the slow lane (its cap), the 2 others keep their
      // slots; the 2 freed slots take M5 and M6; once those cross too, all four fast slots are
      // held by overdue attempts and nothing else starts.
      await until(() => r.started.length === 6);
      assert.deepEqual(s.lanes, { fast: 4, slow: 2 });
      await sleep(SLOW_MS * 3);
      assert.equal(r.started.length, 6, 'the slow lane is full: the good mail waits');
      assert.equal(s.inFlight, 6, 'never more than concurrency + maxSlowAttempts');
      assert.deepEqual(slowSeen.sort(), ['evil1.test', 'evil2.test', 'evil3.test', 'evil4.test', 'evil5.test', 'evil6.test']);
      const events = logs.filter((l) => l.event === 'delivery.slow_attempt');
      assert.equal(events.length, 6);
      assert.equal(events.filter((l) => l.lane === 'slow').length, 2);
      assert.equal(events.filter((l) => l.lane === 'full').length, 4);
      // A slow attempt ends: the oldest overdue one takes its place in the slow lane, a fast slot frees: M7 starts.
      r.finish('M1');
      await until(() => r.started.includes('M7'));
      assert.deepEqual(s.lanes, { fast: 4, slow: 2 });
      // An overdue one fails (a crash is recorded): its fast slot frees: M8 starts.
      r.fail('M5');
      await until(() => r.started.includes('M8'));
      assert.deepEqual(r.crashed, ['M5']);
      r.finish('M7');
      r.finish('M8');
      for (const id of r.running()) r.finish(id);
      await until(() => s.inFlight === 0);
      assert.deepEqual(s.lanes, { fast: 0, slow: 0 }, 'nothing left counted');
      assert.equal(pending.length, 0);
    } finally {
      await s.stop(100);
    }
  });

  it('with room in the slow lane, fresh mail starts while every earlier attempt is held', async () => {
    const jobs = [...[1, 2, 3, 4, 5, 6].map((n) => job(n, `evil${n}.test`)), job(7, 'good.test')];
    const { s, r } = start(jobs); // maxSlowAttempts null: delivery.concurrency (4)
    try {
      await until(() => r.started.includes('M7'));
      await until(() => s.lanes.slow === 4);
      assert.ok(s.inFlight <= 8);
      r.finish('M7');
      await until(() => s.inFlight === 6);
    } finally {
      await s.stop(50); // aborts the held ones: nothing stays counted
    }
    assert.deepEqual(s.lanes, { fast: 0, slow: 0 });
    assert.equal(s.inFlight, 0);
  });

  it('a destination remembered as slow: its next attempt starts in the slow lane, not counted against concurrency', async () => {
    const jobs = [job(1, 'evil.test'), job(2, 'evil.test')];
    const { s, r, logs } = start(jobs, { 'delivery.maxConnectionsPerDestination': 1 });
    try {
      await until(() => r.started.length === 1);
      await until(() => s.lanes.slow === 1); // crossed
      assert.equal(s.remembersSlow('evil.test'), true);
      r.finish('M1');
      await until(() => r.started.length === 2);
      assert.deepEqual(s.lanes, { fast: 0, slow: 1 }, 'M2 started in the slow lane at once');
      assert.equal(s.slowDestinations, 1);
      r.finish('M2'); // ended within the threshold: the destination answered fast
      await until(() => s.inFlight === 0);
      assert.equal(s.remembersSlow('evil.test'), false);
      assert.equal(logs.filter((l) => l.event === 'delivery.slow_destination_forgotten' && l.domain === 'evil.test').length, 1);
      assert.equal(logs.filter((l) => l.event === 'delivery.slow_attempt').length, 1, 'only the first attempt crossed');
    } finally {
      await s.stop(50);
    }
  });

  it('a destination with slow attempts gets at most slowDestinationConnections younger ones; claims skip it', async () => {
    // 8 jobs to one domain (per destination 10), concurrency 4, slow lane 4: 4 start, cross, then
    // only one new one at a time while they run; another domain's mail is not held up.
    const jobs = [...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => job(n, 'evil.test')), job(9, 'good.test')];
    const { s, r, pending } = start(jobs);
    try {
      await until(() => r.started.includes('M9'));
      await sleep(SLOW_MS / 2);
      const evilStarted = r.started.filter((id) => id !== 'M9').length;
      assert.equal(evilStarted, 5, `4 first, then one at a time (started ${r.started.join(',')})`);
      assert.ok(pending.some((j) => j.domain === 'evil.test'), 'the rest stay in the queue (not claimed and held leased)');
      r.finish('M9');
      // M5 crosses too, but the slow lane (4) is full: it keeps its fast slot and counts as evil's
      // one; no other evil attempt starts, however long they all last.
      await sleep(SLOW_MS * 3);
      assert.equal(r.started.length, 6, `evil piles no overdue attempts into the fast lane (started ${r.started.join(',')})`);
      assert.deepEqual(s.lanes, { fast: 1, slow: 4 });
      // A slow one ends: M5 takes its place in the slow lane, and one new evil attempt may start.
      r.finish('M1');
      await until(() => r.started.length === 7);
      assert.deepEqual(s.lanes, { fast: 1, slow: 4 });
      // Ending them lets the rest through (given back to the queue, claimed again once admitted).
      for (const deadline = Date.now() + 5000; (pending.length > 0 || s.inFlight > 0) && Date.now() < deadline;) {
        for (const id of r.running()) r.finish(id);
        await sleep(10);
      }
      assert.equal(pending.length, 0);
      assert.equal(s.inFlight, 0);
      assert.equal(new Set(r.started).size, 9, 'every job ran once');
    } finally {
      await s.stop(50);
    }
    assert.deepEqual(s.lanes, { fast: 0, slow: 0 });
  });
});

describe('SlowLane', () => {
  it('moves attempts past the threshold on a sweep, oldest first, within the cap; end() frees and promotes', () => {
    const clock = { ms: 0, now() { return this.ms; } };
    const swept: [string[], string[]][] = [];
    const lane = new SlowLane({
      clock, slowAfterMs: 1000, maxSlow: 1, perSlowDestination: 1,
      onSwept: (c, m) => swept.push([c.map((e) => e.destination), m.map((e) => e.destination)]),
    });
    try {
      const a = lane.begin('a');
      clock.ms = 500;
      const b = lane.begin('b');
      const c = lane.begin('a');
      lane.sweep();
      assert.equal(swept.length, 0);
      clock.ms = 1000;
      lane.sweep();
      assert.deepEqual(swept, [[['a'], ['a']]]);
      assert.equal(a.lane, 'slow');
      assert.deepEqual([lane.fast, lane.slow], [2, 1]);
      assert.equal(lane.admits('a', 2), false, 'a: one slow, one younger');
      assert.equal(lane.admits('a', 1), true);
      assert.equal(lane.admits('b', 5), true);
      assert.deepEqual(lane.limited(new Map([['a', 2], ['b', 1]])), ['a']);
      clock.ms = 1500;
      lane.sweep();
      assert.deepEqual(swept[1], [['b', 'a'], []], 'the slow lane is full: overdue');
      assert.deepEqual([b.lane, c.lane], ['overdue', 'overdue']);
      assert.deepEqual([lane.fast, lane.slow], [2, 1]);
      assert.equal(lane.end(a), true, 'b takes the slow place');
      assert.equal(b.lane, 'slow');
      assert.equal(lane.end(c), false);
      assert.equal(lane.end(b), false);
      assert.deepEqual([lane.fast, lane.slow, lane.running, lane.slowOf('a'), lane.slowOf('b')], [0, 0, 0, 0, 0]);
    } finally {
      lane.close();
    }
  });

  it('remembers a destination whose attempt crossed: its next attempt starts in the slow lane; one that ends fast forgets it', () => {
    const clock = { ms: 0, now() { return this.ms; } };
    const forgotten: string[] = [];
    const lane = new SlowLane({
      clock, slowAfterMs: 1000, maxSlow: 2, perSlowDestination: 1, memory: { destinations: 10, ttlMs: 60_000 },
      onSwept: () => undefined, onForgotten: (d) => forgotten.push(d),
    });
    try {
      const a = lane.begin('evil');
      clock.ms = 1000;
      lane.sweep();
      assert.equal(a.lane, 'slow');
      assert.equal(lane.isRemembered('evil'), true, 'remembered when it crossed');
      clock.ms = 5000;
      lane.end(a);
      assert.equal(lane.rememberedCount, 1);
      // The next attempt (a retry, or new mail) starts in the slow lane: no fast slot, no threshold to wait for.
      const b = lane.begin('evil');
      assert.deepEqual([b.lane, lane.fast, lane.slow, lane.slowOf('evil')], ['slow', 0, 1, 1]);
      assert.equal(lane.admits('evil', 1), true, 'room in the slow lane: another starts there too');
      const c = lane.begin('evil');
      assert.equal(c.lane, 'slow');
      // The slow lane is full (2): a remembered destination is limited as one with slow attempts.
      assert.equal(lane.admits('evil', 2), true, 'none of its attempts counts against concurrency');
      const d = lane.begin('evil');
      assert.deepEqual([d.lane, lane.fast, lane.slow], ['fast', 1, 2]);
      assert.equal(lane.admits('evil', 3), false);
      assert.deepEqual(lane.limited(new Map([['evil', 3], ['good', 4]])), ['evil']);
      // An attempt started slow that ran past the threshold refreshes the memory; one that ended within it forgets.
      clock.ms = 7000;
      lane.end(b);
      assert.equal(lane.isRemembered('evil'), true);
      assert.deepEqual(forgotten, []);
      clock.ms = 7500;
      lane.end(c); // started at 5000, ended 2.5 s later: slow, kept
      lane.end(d); // a fast-lane attempt that ended before any sweep marked it: the destination answered fast
      assert.deepEqual(forgotten, ['evil']);
      assert.equal(lane.isRemembered('evil'), false);
      const e = lane.begin('evil');
      assert.equal(e.lane, 'fast', 'forgotten: it starts in the fast lane again');
      clock.ms = 7600;
      lane.end(e);
      assert.deepEqual([lane.fast, lane.slow, lane.running, lane.slowOf('evil')], [0, 0, 0, 0]);
    } finally {
      lane.close();
    }
  });

  it('a destination remembered while some of its attempts are young: they count, no new one starts past slowDestinationConnections', () => {
    const clock = { ms: 0, now() { return this.ms; } };
    const lane = new SlowLane({ clock, slowAfterMs: 1000, maxSlow: 4, perSlowDestination: 1, memory: { destinations: 10, ttlMs: 60_000 }, onSwept: () => undefined });
    const older = [lane.begin('evil'), lane.begin('evil')];
    clock.ms = 1;
    const younger = [lane.begin('evil'), lane.begin('evil')];
    clock.ms = 1000;
    lane.sweep(); // the older two cross (remembered, slow); the younger two still count against concurrency
    assert.deepEqual([...older, ...younger].map((e) => e.lane), ['slow', 'slow', 'fast', 'fast']);
    assert.equal(lane.admits('evil', 4), false, 'not while two of its attempts count against concurrency, though the slow lane has room');
    clock.ms = 1001;
    lane.sweep();
    assert.deepEqual([lane.fast, lane.slow], [0, 4]);
    assert.equal(lane.admits('evil', 4), true);
    const next = lane.begin('evil');
    assert.equal(next.lane, 'fast', 'the slow lane is full: it counts against concurrency');
    assert.equal(lane.admits('evil', 5), false);
    lane.close();
  });

  it('limited() names a remembered destination without slow attempts whose counted attempts reach the limit', () => {
    const clock = { ms: 0, now() { return this.ms; } };
    const lane = new SlowLane({ clock, slowAfterMs: 1000, maxSlow: 0, perSlowDestination: 1, memory: { destinations: 10, ttlMs: 60_000 }, onSwept: () => undefined });
    lane.remember('x', 0);
    const e = lane.begin('x'); // no slow lane (maxSlow 0): it counts against concurrency
    assert.equal(e.lane, 'fast');
    assert.equal(lane.admits('x', 1), false);
    assert.deepEqual(lane.limited(new Map([['x', 1], ['y', 1], ['z', 2]])), ['x'], 'walking the remembered destinations');
    lane.remember('w', 0);
    lane.remember('v', 0);
    assert.deepEqual(lane.limited(new Map([['x', 1]])), ['x'], 'walking the running destinations');
    assert.deepEqual(lane.limited(new Map([['y', 3]])), []);
    clock.ms = 60_000; // expired
    assert.deepEqual(lane.limited(new Map([['x', 1]])), []);
    lane.end(e);
    lane.close();
  });

  it('an attempt started slow by the memory that ends within the threshold forgets the destination', () => {
    const clock = { ms: 0, now() { return this.ms; } };
    const forgotten: string[] = [];
    const lane = new SlowLane({
      clock, slowAfterMs: 1000, maxSlow: 4, perSlowDestination: 1, memory: { destinations: 10, ttlMs: 60_000 },
      onSwept: () => undefined, onForgotten: (d) => forgotten.push(d),
    });
    lane.remember('recovered', 0);
    const a = lane.begin('recovered');
    assert.equal(a.lane, 'slow');
    clock.ms = 300;
    lane.end(a);
    assert.deepEqual(forgotten, ['recovered']);
    assert.equal(lane.rememberedCount, 0);
    lane.close();
  });

  it('the memory is bounded: at most slowMemory.destinations, the least recently slow dropped first; entries expire after the ttl', () => {
    const clock = { ms: 0, now() { return this.ms; } };
    const lane = new SlowLane({ clock, slowAfterMs: 1000, maxSlow: 4, perSlowDestination: 1, memory: { destinations: 3, ttlMs: 10_000 }, onSwept: () => undefined });
    for (let i = 0; i < 5; i++) { clock.ms = i; lane.remember(`d${i}`, clock.ms); }
    assert.equal(lane.rememberedCount, 3);
    assert.deepEqual(['d0', 'd1', 'd2', 'd3', 'd4'].map((d) => lane.isRemembered(d)), [false, false, true, true, true]);
    clock.ms = 5;
    lane.remember('d2', clock.ms); // slow again: now the most recent
    lane.remember('d5', clock.ms); // drops d3, the least recently slow
    assert.deepEqual(['d2', 'd3', 'd4', 'd5'].map((d) => lane.isRemembered(d)), [true, false, true, true]);
    clock.ms = 10_004; // d4 (remembered at 4) has expired; d2 and d5 (at 5) not yet
    assert.equal(lane.rememberedCount, 2);
    assert.equal(lane.isRemembered('d4'), false);
    clock.ms = 10_005;
    assert.equal(lane.isRemembered('d5'), false);
    assert.equal(lane.rememberedCount, 0);
    // Off (0): nothing is remembered, an attempt past the threshold is handled as before.
    const off = new SlowLane({ clock, slowAfterMs: 1000, maxSlow: 4, perSlowDestination: 1, memory: { destinations: 0, ttlMs: 10_000 }, onSwept: () => undefined });
    off.remember('x', clock.ms);
    assert.equal(off.rememberedCount, 0);
    lane.close();
    off.close();
  });

  it('sweeps every quarter of the threshold, between 20 ms and 1 s', () => {
    assert.equal(SlowLane.sweepFor(60_000), 1000);
    assert.equal(SlowLane.sweepFor(1000), 250);
    assert.equal(SlowLane.sweepFor(10), 20);
  });
});
