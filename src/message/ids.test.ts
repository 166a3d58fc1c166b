// Queue ids: the format, the time-ordered prefix (as the BigInt version wrote it), and the random
// part drawn from the pool: distinct across pool refills, every digit of the alphabet used.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isQueueId, newQueueId } from './ids.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** The time prefix as ids.ts computed it before the pool (BigInt shifts). */
function bigintPrefix(now: number): string {
  let n = BigInt(now);
  let s = '';
  for (let i = 0; i < 9; i++) { s = ALPHABET[Number(n & 31n)] + s; n >>= 5n; }
  return s;
}

describe('newQueueId', () => {
  it('20 Crockford base32 characters; the first nine are the time, as before, and sort by it', () => {
    for (const now of [0, 1, 31, 32, 1_764_849_600_000, 1_764_849_600_001, 2 ** 45 - 1]) {
      const id = newQueueId(now);
      assert.ok(isQueueId(id), id);
      assert.equal(id.slice(0, 9), bigintPrefix(now));
    }
    assert.ok(newQueueId(1_764_849_600_000) < newQueueId(1_764_849_600_001));
  });

  it('the random part: no repeat in 20,000 ids at one instant (many pool refills), every digit used in every position', () => {
    const seen = new Set<string>();
    const used = Array.from({ length: 11 }, () => new Set<string>());
    for (let i = 0; i < 20_000; i++) {
      const id = newQueueId(1_764_849_600_000);
      seen.add(id);
      for (let p = 0; p < 11; p++) used[p]!.add(id[9 + p]!);
    }
    assert.equal(seen.size, 20_000);
    for (const u of used) assert.equal(u.size, 32);
  });
});
