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
