import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthLimiter, clientKey } from './auth-limiter.js';

const limits = { maxFailures: 4, failureWindow: 60_000, lockout: 300_000, failureDelay: 1000 };
const fakeClock = (t = 1_000_000) => ({ t, now() { return this.t; } });

test('each failure doubles the delay; the last one locks the client out', () => {
  const clock = fakeClock();
  const lim = new AuthLimiter(limits, clock);
  assert.equal(lim.isAllowed('192.0.2.1'), true);
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 1000, lockedOut: false });
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 2000, lockedOut: false });
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 4000, lockedOut: false });
  assert.equal(lim.isAllowed('192.0.2.1'), true);
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 8000, lockedOut: true });
  assert.equal(lim.isAllowed('192.0.2.1'), false);
  assert.equal(lim.isAllowed('192.0.2.2'), true, 'other clients are not affected');
  clock.t += 299_999;
  assert.equal(lim.isAllowed('192.0.2.1'), false);
  clock.t += 1;
  assert.equal(lim.isAllowed('192.0.2.1'), true, 'the lockout ends');
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 1000, lockedOut: false }, 'and counting starts again');
});

test('failures outside the window are forgotten; a success resets', () => {
  const clock = fakeClock();
  const lim = new AuthLimiter(limits, clock);
  lim.recordFailure('192.0.2.1');
  lim.recordFailure('192.0.2.1');
  clock.t += 60_000;
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 1000, lockedOut: false });
  lim.recordFailure('192.0.2.1');
  lim.recordSuccess('192.0.2.1');
  assert.deepEqual(lim.recordFailure('192.0.2.1'), { delayMs: 1000, lockedOut: false });
});

test('the delay is capped at 30 s', () => {
  const lim = new AuthLimiter({ ...limits, maxFailures: 100 }, fakeClock());
  let last = 0;
  for (let i = 0; i < 20; i++) last = lim.recordFailure('192.0.2.1').delayMs;
  assert.equal(last, 30_000);
});

test('IPv6 clients are counted per /64, IPv4-mapped as IPv4', () => {
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:db8:1:2::ffff'), '2001:db8:1:2::/64');
  assert.equal(clientKey('2001:0db8:0001:0002:0:0:0:1'), '2001:db8:1:2::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(clientKey('192.0.2.7'), '192.0.2.7');
  const lim = new AuthLimiter({ ...limits, maxFailures: 2 }, fakeClock());
  lim.recordFailure('2001:db8:1:2::1');
  lim.recordFailure('2001:db8:1:2::2');
  assert.equal(lim.isAllowed('2001:db8:1:2::3'), false);
  assert.equal(lim.isAllowed('2001:db8:1:3::1'), true);
});

test('expired entries are swept, so the map stays bounded', () => {
  const clock = fakeClock();
  const lim = new AuthLimiter(limits, clock);
  for (let i = 0; i < 10_000; i++) lim.recordFailure(`10.0.${i >> 8}.${i & 255}`);
  clock.t += 60_000;
  lim.recordFailure('192.0.2.1');
  assert.equal(lim.size, 1);
});
