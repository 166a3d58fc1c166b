// AccountCache: an account is read once per ACCOUNT_CACHE_MS; readers that miss while a read is in
// flight share it (no burst of the same query when the entry expires under load); a failed read
// reaches its readers, is not kept, and the next reader asks again; stale() keeps the last value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Account } from '../store/platform-store.js';
import { ACCOUNT_CACHE_MS, AccountCache } from './account-cache.js';

test('AccountCache: one read per expiry however many readers miss at once; a failure is not kept', async () => {
  const account = { name: 'acme' } as Account;
  let reads = 0;
  let open!: () => void;
  let gate: Promise<void> | null = null;
  let fail = false;
  const store = { async getAccount(name: string) { reads++; await gate; if (fail) throw new Error('connection lost'); return name === 'acme' ? account : null; } };
  const clock = { t: 1000, now: () => clock.t };
  const cache = new AccountCache(store, clock);
  assert.equal(await cache.get('acme'), account);
  assert.equal(await cache.get('acme'), account);
  assert.equal(reads, 1);
  clock.t += ACCOUNT_CACHE_MS;
  gate = new Promise((resolve) => { open = resolve; });
  const waiting = Array.from({ length: 30 }, () => cache.get('acme'));
  assert.equal(reads, 2, 'one read for 30 readers that missed together');
  const other = cache.get('other');
  assert.equal(reads, 3, 'another name has its own read');
  open();
  assert.ok((await Promise.all(waiting)).every((a) => a === account));
  assert.equal(await other, null);
  assert.equal(reads, 3);
  clock.t += ACCOUNT_CACHE_MS;
  gate = null;
  fail = true;
  const failed = await Promise.allSettled([cache.get('acme'), cache.get('acme')]);
  assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(reads, 4, 'the two readers shared the failed read');
  assert.equal(cache.stale('acme'), account, 'the last value read is still there as a fallback');
  fail = false;
  assert.equal(await cache.get('acme'), account);
  assert.equal(reads, 5, 'asked again after the failure');
});

test('AccountCache: a lookup that never answers (a dead connection) is shared only while it is young; later readers read again', async () => {
  const account = { name: 'acme' } as Account;
  let reads = 0;
  let hang = true;
  const store = { getAccount(): Promise<Account> { reads++; return hang ? new Promise<Account>(() => {}) : Promise.resolve(account); } };
  const clock = { t: 1000, now: () => clock.t };
  const cache = new AccountCache(store, clock);
  void cache.get('acme'); // stuck for good
  void cache.get('acme');
  assert.equal(reads, 1, 'shared while young');
  clock.t += ACCOUNT_CACHE_MS;
  hang = false;
  assert.equal(await cache.get('acme'), account, 'a reader after ACCOUNT_CACHE_MS does not wait for the stuck lookup');
  assert.equal(reads, 2);
  assert.equal(await cache.get('acme'), account);
  assert.equal(reads, 2, 'and what it read is cached');
});
