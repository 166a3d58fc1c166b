// The connection counting shared by the SMTP listeners and the HTTP API's: both caps, the reason of
// a refusal, and every slot given back (no entry left for an address with nothing open).
import test from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionCounts } from './connection-limits.js';

test('ConnectionCounts: per address and in total, released exactly', () => {
  const c = new ConnectionCounts(3, 2);
  assert.ok(c.tryAcquire('a'));
  assert.ok(c.tryAcquire('a'));
  assert.equal(c.tryAcquire('a'), false);
  assert.equal(c.refusal('a'), 'per-ip');
  assert.equal(c.refusal('b'), null);
  assert.ok(c.tryAcquire('b'));
  assert.equal(c.tryAcquire('c'), false);
  assert.equal(c.refusal('c'), 'total');
  assert.equal(c.refusal('a'), 'per-ip', 'its own cap first: eviction would not help it');
  assert.deepEqual([c.total, c.addresses], [3, 2]);
  c.release('a');
  c.release('b');
  assert.ok(c.tryAcquire('c'));
  c.release('a');
  c.release('c');
  assert.deepEqual([c.total, c.addresses], [0, 0]);
});

test('ConnectionCounts: an IPv6 client is its /64, an IPv4-mapped one its IPv4 address', () => {
  const c = new ConnectionCounts(10, 2);
  assert.ok(c.tryAcquire('2001:db8:1:2::1'));
  assert.ok(c.tryAcquire('2001:db8:1:2:ffff:1:2:3'));
  assert.equal(c.tryAcquire('2001:db8:1:2::3'), false, 'a third address of the same /64');
  assert.equal(c.refusal('2001:0db8:0001:0002::9'), 'per-ip');
  assert.equal(c.isIpFull('2001:db8:1:2::4'), true);
  assert.ok(c.tryAcquire('2001:db8:1:3::1'), 'the next /64 is another client');
  assert.ok(c.tryAcquire('192.0.2.7'));
  assert.ok(c.tryAcquire('::ffff:192.0.2.7'));
  assert.equal(c.tryAcquire('192.0.2.7'), false, 'mapped and plain IPv4 are one client');
  assert.deepEqual([c.total, c.addresses], [5, 3]);
  c.release('2001:db8:1:2::1');
  assert.ok(c.tryAcquire('2001:db8:1:2::abcd'), 'a slot given back by any address of the /64');
  for (const ip of ['2001:db8:1:2::abcd', '2001:db8:1:2:ffff:1:2:3', '2001:db8:1:3::1', '::ffff:192.0.2.7', '192.0.2.7']) c.release(ip);
  assert.deepEqual([c.total, c.addresses], [0, 0]);
});
