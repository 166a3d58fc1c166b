// StoreAvailability on an injected clock: an outage is logged once when it begins and once when
// it ends; `writable` (for /readyz) is false from the first failure until a write succeeds at
// least settleMs after the last one — a write squeezed in between failures (a server going down
// session by session, a small write fitting in a full disk's allocated space) does not end it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../events/log.js';
import { SLOW_WINDOW_MS, StoreAvailability } from './store-availability.js';

const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

function harness() {
  const out = new PassThrough();
  const lines: { event?: string; downMs?: number; failedCalls?: number; store?: string; code?: string; op?: string }[] = [];
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) lines.push(JSON.parse(l) as typeof lines[number]); });
  const clock = { t: 0 };
  const availability = new StoreAvailability({ logger: createLogger('info', out), store: 'sqlite', now: () => clock.t });
  const settled = () => new Promise((r) => setImmediate(r));
  return { availability, lines, clock, settled };
}

describe('StoreAvailability', () => {
  it('logs an outage once when it begins and once when it ends, not at each call in between', async () => {
    const { availability: a, lines, clock, settled } = harness();
    a.succeeded();
    for (let i = 0; i < 5; i++) {
      a.failed('put', err('database or disk is full', 'SQLITE_FULL'));
      clock.t += 100;
      a.succeeded(); // a write that still got through between two failures: not a recovery
    }
    clock.t += 1_000;
    a.succeeded();
    a.succeeded();
    await settled();
    assert.deepEqual(lines.map((l) => l.event), ['queue.unavailable', 'queue.available']);
    assert.deepEqual({ store: lines[0]!.store, op: lines[0]!.op, code: lines[0]!.code }, { store: 'sqlite', op: 'put', code: 'SQLITE_FULL' });
    assert.equal(lines[1]!.downMs, 1_500);
    assert.equal(lines[1]!.failedCalls, 5);
  });

  it('is not writable from the first failure until a write succeeds after the settle time', () => {
    const { availability: a, clock } = harness();
    assert.equal(a.writable, true);
    assert.equal(a.outage === null, true);
    clock.t = 5_000;
    a.failed('recordResults', err('database or disk is full', 'SQLITE_FULL'));
    assert.equal(a.writable, false);
    assert.deepEqual(a.outage, { since: 5_000, op: 'recordResults', code: 'SQLITE_FULL', reason: 'database or disk is full' });
    clock.t += 60_000;
    assert.equal(a.writable, false, 'time alone does not end an outage: a write must succeed');
    a.failed('put', err('disk I/O error', 'SQLITE_IOERR_WRITE'));
    assert.equal(a.outage?.code, 'SQLITE_FULL', 'the outage keeps its first cause');
    clock.t += 999;
    a.succeeded();
    assert.equal(a.writable, false, 'within the settle time of the last failure');
    clock.t += 1;
    a.succeeded();
    assert.equal(a.writable, true);
  });

  it('times writes: slow while one is pending a second or more or took that long recently, logged once a minute', async () => {
    const { availability: a, lines, clock, settled } = harness();
    const fast = a.writeStarted('put');
    clock.t += 999;
    assert.equal(a.slowness, null, 'pending under a second: not slow');
    fast();
    const slow = a.writeStarted('put');
    clock.t += 1_500;
    assert.deepEqual(a.slowness, { pendingMs: 1_500, slowestMs: 1_500 }, 'pending a second or more');
    clock.t += 2_500;
    slow();
    assert.deepEqual(a.slowness, { pendingMs: 0, slowestMs: 4_000 }, 'finished slow: remembered');
    const second = a.writeStarted('recordResults');
    clock.t += 1_000;
    second();
    await settled();
    assert.deepEqual(lines.map((l) => [l.event, l.op]), [['queue.slow', 'put']], 'logged once');
    assert.equal(a.writable, true, 'slow is not an outage');
    clock.t += SLOW_WINDOW_MS;
    assert.equal(a.slowness, null, 'fast again once the window has passed without a slow write');
  });
});
