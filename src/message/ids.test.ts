import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isQueueId, newQueueId } from './ids.js';

/** The time prefix as the first implementation computed it (BigInt base32). */
function bigintPrefix(now: number): string {
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let s = '';
  let n = BigInt(now);
  for (let i = 0; i < 9; i++) { s = ALPHABET[Number(n & 31n)] + s; n >>= 5n; }
  return s;
}

test('queue ids: 20 Crockford base32 characters, the time prefix unchanged from the BigInt form', () => {
  for (const now of [0, 1, 31, 32, 1_764_870_000_000, 2 ** 45 - 1]) {
    const id = newQueueId(now);
    assert.ok(isQueueId(id), id);
    assert.equal(id.slice(0, 9), bigintPrefix(now));
  }
});

test('queue ids sort by time and do not repeat across pool refills', () => {
  const ids = new Set<string>();
  let last = '';
  for (let i = 0; i < 5000; i++) { // more than one 4 KiB pool
    const id = newQueueId(1_764_870_000_000 + i);
    assert.ok(id > last);
    last = id;
    ids.add(id.slice(9));
  }
  assert.equal(ids.size, 5000);
});

test('the random part uses the whole alphabet', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 400; i++) for (const c of newQueueId().slice(9)) seen.add(c);
  assert.equal(seen.size, 32);
});
