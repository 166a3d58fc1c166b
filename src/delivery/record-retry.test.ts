// recordWithRetry on a simulated clock (the injected sleep advances it): retried only while the
// store is unavailable, with the capped backoff, until recorded or aborted — past the lease too
// (logged once) — and counted in `held` while it waits.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { QueueUnavailableError, QueueWriteError } from '../errors.js';
import { createLogger } from '../events/log.js';
import { recordWithRetry } from './record-retry.js';

function harness(leaseIn: number) {
  const out = new PassThrough();
  const lines: { event?: string }[] = [];
  out.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { event?: string }); });
  let now = 10_000;
  const sleeps: number[] = [];
  const opts = {
    clock: { now: () => now }, logger: createLogger('info', out), id: 'Q1', leaseUntil: now + leaseIn,
    limits: { initialMs: 250, maxMs: 1_000 },
    sleep: async (ms: number) => { sleeps.push(ms); now += ms; },
  };
  const events = async () => { await new Promise((r) => setImmediate(r)); return lines.map((l) => l.event); };
  return { opts, sleeps, events };
}

/** A record() that fails with `err` the first `failures` times. */
function flaky(failures: number, err: () => Error = () => new QueueUnavailableError('down')) {
  const calls = { n: 0 };
  return { calls, record: async () => { if (calls.n++ < failures) throw err(); } };
}

describe('recordWithRetry', () => {
  it('records at once when the store is up: no retry, no log', async () => {
    const h = harness(60_000);
    const f = flaky(0);
    await recordWithRetry(f.record, h.opts);
    assert.equal(f.calls.n, 1);
    assert.deepEqual(h.sleeps, []);
    assert.deepEqual(await h.events(), []);
  });

  it('keeps the result and retries with backoff while the store is unavailable, then records it', async () => {
    const h = harness(60_000);
    const f = flaky(5);
    await recordWithRetry(f.record, h.opts);
    assert.equal(f.calls.n, 6);
    assert.deepEqual(h.sleeps, [250, 500, 1000, 1000, 1000]);
    assert.deepEqual(await h.events(), ['delivery.record_retrying', 'delivery.record_recovered']);
  });

  it('keeps retrying past the lease (logged once) until the store takes the result; held meanwhile', async () => {
    const h = harness(1_000);
    const held = new Set<symbol>();
    const sizes: number[] = [];
    const f = flaky(8);
    const record = async () => { sizes.push(held.size); await f.record(); };
    await recordWithRetry(record, { ...h.opts, held });
    assert.deepEqual(h.sleeps, [250, 500, 1000, 1000, 1000, 1000, 1000, 1000]);
    assert.equal(f.calls.n, 9);
    assert.deepEqual(sizes, [0, 1, 1, 1, 1, 1, 1, 1, 1], 'held from the first failure until recorded');
    assert.equal(held.size, 0, 'released once recorded');
    assert.deepEqual(await h.events(), ['delivery.record_retrying', 'delivery.record_lease_expired', 'delivery.record_recovered']);
  });

  it('does not retry other errors', async () => {
    const h = harness(60_000);
    const f = flaky(1, () => new QueueWriteError('constraint violated'));
    await assert.rejects(recordWithRetry(f.record, h.opts), { code: 'ERR_QUEUE_WRITE' });
    assert.equal(f.calls.n, 1);
    assert.deepEqual(h.sleeps, []);
  });

  it('stops retrying once aborted (graceful stop gave up waiting)', async () => {
    const h = harness(60_000);
    const ac = new AbortController();
    const f = flaky(Infinity);
    const sleep = h.opts.sleep;
    await assert.rejects(recordWithRetry(f.record, { ...h.opts, signal: ac.signal, sleep: async (ms) => { await sleep(ms); ac.abort(); } }),
      { code: 'ERR_QUEUE_UNAVAILABLE' });
    assert.equal(f.calls.n, 2, 'one try after the abort, then the last error');
    assert.deepEqual(await h.events(), ['delivery.record_retrying', 'delivery.record_gave_up']);
  });
});
