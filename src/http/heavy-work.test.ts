// The bulk-work budget (http/heavy-work.ts): rows per account per fixed minute; 413 beyond the
// whole budget, 429 + Retry-After over what is left, reads charged after the fact.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../ingress/http/api-error.js';
import { HeavyReads, HeavyWork } from './heavy-work.js';

const refused = (fn: () => void, status: number, code: string): ApiError => {
  try { fn(); } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, status);
    assert.equal(e.code, code);
    return e;
  }
  assert.fail('not refused');
};

test('rows are counted per account per minute; over them 429 with the seconds to the window\'s end', () => {
  let now = 120_000 + 15_000;
  const w = new HeavyWork(1000, { now: () => now });
  w.take('a', 600);
  w.take('a', 400);
  const e = refused(() => w.take('a', 1), 429, 'rate_limited');
  assert.equal(e.retryAfterSeconds, 45);
  refused(() => w.check('a'), 429, 'rate_limited');
  w.take('b', 1000);
  now = 180_000; // the next minute: the budget is back, and counted again
  w.take('a', 1000);
  refused(() => w.take('a', 1), 429, 'rate_limited');
});

test('one request over the whole budget is 413 naming the maximum, and charges nothing', () => {
  const w = new HeavyWork(1000, { now: () => 0 });
  const e = refused(() => w.take('a', 1001), 413, 'too_much_work');
  assert.match(e.message, /at most 1000/);
  w.take('a', 1000);
});

test('a read is checked before and charged after; it may run over, and the account waits', () => {
  const w = new HeavyWork(1000, { now: () => 0 });
  w.check('a');
  w.charge('a', 5000);
  refused(() => w.check('a'), 429, 'rate_limited');
  refused(() => w.take('a', 1), 429, 'rate_limited');
});

test('heavy reads: at most perAccount in flight per account, 429 with Retry-After beyond, each slot given back once', () => {
  const r = new HeavyReads(2);
  const a1 = r.begin('acme');
  const a2 = r.begin('acme');
  const e = refused(() => r.begin('acme'), 429, 'rate_limited');
  assert.equal(e.retryAfterSeconds, 1);
  const b1 = r.begin('globex');
  assert.equal(r.inFlight('globex'), 1, 'another account is not affected');
  a1();
  a1();
  assert.equal(r.inFlight('acme'), 1, 'released once');
  const a3 = r.begin('acme');
  refused(() => r.begin('acme'), 429, 'rate_limited');
  for (const release of [a2, a3, b1]) release();
  assert.deepEqual([r.inFlight('acme'), r.inFlight('globex')], [0, 0]);
});
