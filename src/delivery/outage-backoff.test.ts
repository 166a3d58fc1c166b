// The outage backoff as literal tables: delays per consecutive failure, and the outage bookkeeping
// (began once, ended once with its length) on an injected clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, OutageBackoff } from './outage-backoff.js';

describe('outage backoff', () => {
  it('doubles from the initial delay up to the cap', () => {
    const limits = { initialMs: 250, maxMs: 5_000 };
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => backoffDelayMs(limits, n)),
      [0, 250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  });

  it('reports the start of an outage once and its end once, with its length and failed calls', () => {
    let now = 1_000;
    const b = new OutageBackoff({ initialMs: 100, maxMs: 300 }, { now: () => now });
    assert.equal(b.paused, false);
    assert.equal(b.succeeded(), null, 'no outage: nothing ended');
    assert.deepEqual(b.failed(), { delayMs: 100, began: true });
    assert.equal(b.paused, true);
    now += 100;
    assert.deepEqual(b.failed(), { delayMs: 200, began: false });
    now += 200;
    assert.deepEqual(b.failed(), { delayMs: 300, began: false });
    now += 300;
    assert.deepEqual(b.succeeded(), { downMs: 600, failures: 3 });
    assert.equal(b.paused, false);
    assert.deepEqual(b.failed(), { delayMs: 100, began: true }, 'a new outage starts from the initial delay');
  });
});
