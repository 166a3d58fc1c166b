// The VERP return-path: built from a queue id and a sending domain, parsed back, and nothing else
// parsed as one.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newQueueId } from '../message/ids.js';
import { bounceAddress, parseBounceAddress } from './bounce-address.js';

it('bounce+<id>@<label>.<domain> round-trips', () => {
  const id = newQueueId(Date.UTC(2025, 6, 1));
  const address = bounceAddress(id, 'example.com', 'Bounces');
  assert.equal(address, `bounce+${id}@bounces.example.com`);
  assert.deepEqual(parseBounceAddress(address, 'bounces'), { queueId: id, domain: 'example.com' });
  assert.deepEqual(parseBounceAddress(`bounce+${id.toLowerCase()}@BOUNCES.Example.COM`, 'bounces'), { queueId: id, domain: 'example.com' });
});

it('anything else is not a bounce address', () => {
  const id = newQueueId();
  for (const a of [`bounce+${id}@example.com`, `bounce+${id}@other.example.com`, `bounce+${id}@bounces.com`, `bounce+short@bounces.example.com`,
    `bounce+${id}x@bounces.example.com`, `alice@bounces.example.com`, `bounce+${id.replace(/./, 'U')}@bounces.example.com`]) {
    assert.equal(parseBounceAddress(a, 'bounces'), null, a);
  }
});
