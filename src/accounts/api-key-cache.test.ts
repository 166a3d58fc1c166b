// ApiKeyCache: a found key is reused for ttlMs (no store lookup), then looked up again; a key
// revoked elsewhere is refused once its entry expires, one forgotten (revoked through this
// process) at once, even when a lookup was in flight; misses and revoked keys are never cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiKeyRecord } from '../store/platform-store.js';
import { ApiKeyCache } from './api-key-cache.js';
import { ApiKeyAuthenticator, newApiKey } from './api-keys.js';

class KeyStore {
  keys = new Map<string, ApiKeyRecord>();
  lookups = 0;
  gate: Promise<void> | null = null;
  async getApiKey(id: string) {
    this.lookups++;
    const found = this.keys.get(id) ?? null;
    await this.gate;
    return found;
  }
  async touchApiKey() {}
}

function setup(ttlMs = 5000) {
  const store = new KeyStore();
  const clock = { t: 1000, now: () => clock.t };
  const cache = new ApiKeyCache(store, clock, ttlMs);
  const auth = new ApiKeyAuthenticator(cache, clock);
  const key = newApiKey({ account: 'acme', scopes: ['send'], now: 0 });
  store.keys.set(key.record.id, key.record);
  const revoke = () => store.keys.set(key.record.id, { ...key.record, revokedAt: clock.t });
  return { store, clock, cache, auth, key, revoke };
}

test('ApiKeyCache: a key is looked up once per ttl; the secret is still checked on every request', async () => {
  const { store, clock, auth, key } = setup();
  assert.equal((await auth.authenticate(key.token))?.id, key.record.id);
  clock.t += 4999;
  assert.equal((await auth.authenticate(key.token))?.id, key.record.id);
  assert.equal(store.lookups, 1);
  assert.equal(await auth.authenticate(key.token.slice(0, -1) + (key.token.endsWith('A') ? 'B' : 'A')), null, 'a wrong secret with a cached id');
  clock.t += 1;
  await auth.authenticate(key.token);
  assert.equal(store.lookups, 2, 'looked up again after ttlMs');
});

test('ApiKeyCache: revoked elsewhere (CLI, another node) → refused within ttlMs', async () => {
  const { clock, auth, key, revoke } = setup();
  assert.ok(await auth.authenticate(key.token));
  revoke();
  clock.t += 4999;
  assert.ok(await auth.authenticate(key.token), 'still cached: the documented revocation latency');
  clock.t += 1;
  assert.equal(await auth.authenticate(key.token), null);
});

test('ApiKeyCache: revoked through this process (forget) → refused at once, even with a lookup in flight', async () => {
  const { store, cache, auth, key, revoke } = setup();
  assert.ok(await auth.authenticate(key.token));
  revoke();
  cache.forget(key.record.id);
  assert.equal(await auth.authenticate(key.token), null);
  // A lookup that read the key before the revocation must not put it back in the cache.
  store.keys.set(key.record.id, key.record);
  let open!: () => void;
  store.gate = new Promise((resolve) => { open = resolve; });
  const inFlight = auth.authenticate(key.token);
  revoke();
  cache.forget(key.record.id);
  open();
  assert.ok(await inFlight, 'it read the key before the revocation');
  store.gate = null;
  assert.equal(await auth.authenticate(key.token), null);
});

test('ApiKeyCache: unknown and revoked keys are not cached; ttlMs 0 caches nothing', async () => {
  const { store, auth, key, revoke } = setup();
  revoke();
  assert.equal(await auth.authenticate(key.token), null);
  store.keys.set(key.record.id, key.record);
  assert.ok(await auth.authenticate(key.token), 'a revoked record was not kept');
  const none = setup(0);
  await none.auth.authenticate(none.key.token);
  await none.auth.authenticate(none.key.token);
  assert.equal(none.store.lookups, 2);
});

test('ApiKeyCache: requests that miss while a lookup runs share it; one after a revocation does not; a failed lookup is not kept', async () => {
  const { store, clock, auth, cache, key, revoke } = setup();
  assert.ok(await auth.authenticate(key.token));
  clock.t += 5000; // expired: the next requests miss
  let open!: () => void;
  store.gate = new Promise((resolve) => { open = resolve; });
  const before = store.lookups;
  const waiting = Array.from({ length: 20 }, () => auth.authenticate(key.token));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.lookups, before + 1, 'one store read for 20 concurrent requests');
  // Revoked through this process while that read is in flight: a request after it reads again.
  revoke();
  cache.forget(key.record.id);
  const after = auth.authenticate(key.token);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.lookups, before + 2, 'the request after forget() made its own read');
  open();
  assert.ok((await Promise.all(waiting)).every((r) => r?.id === key.record.id), 'the earlier requests read the key before the revocation');
  assert.equal(await after, null, 'refused: it read the revoked record');
  // A store failure reaches every request of that read and is not kept.
  store.gate = null;
  store.keys.set(key.record.id, key.record);
  clock.t += 5000;
  const real = store.getApiKey.bind(store);
  let fail = true;
  store.getApiKey = async (id: string) => { if (fail) { store.lookups++; await Promise.resolve(); throw new Error('connection lost'); } return real(id); };
  const failed = await Promise.allSettled([cache.getApiKey(key.record.id), cache.getApiKey(key.record.id)]);
  assert.deepEqual(failed.map((r) => r.status), ['rejected', 'rejected']);
  fail = false;
  assert.equal((await cache.getApiKey(key.record.id))?.id, key.record.id, 'asked again after the failure');
});

test('ApiKeyCache: a lookup that never answers (a dead connection) is shared only for ttlMs; later requests read again', async () => {
  const { store, clock, auth, key } = setup();
  store.gate = new Promise(() => {}); // every lookup started now hangs for good
  void auth.authenticate(key.token);
  void auth.authenticate(key.token);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(store.lookups, 1, 'shared while young');
  clock.t += 5000;
  store.gate = null;
  assert.equal((await auth.authenticate(key.token))?.id, key.record.id, 'a request after ttlMs does not wait for the stuck lookup');
  assert.equal(store.lookups, 2);
});

test('ApiKeyCache: isCached tells whether a lookup would skip the store; onLookup sees each store lookup', async () => {
  const store = new KeyStore();
  const clock = { t: 1000, now: () => clock.t };
  const seen: boolean[] = [];
  const cache = new ApiKeyCache(store, clock, 5000, (found) => seen.push(found));
  const key = newApiKey({ account: 'acme', scopes: ['send'], now: 0 });
  store.keys.set(key.record.id, key.record);
  assert.equal(cache.isCached(key.record.id), false);
  await cache.getApiKey(key.record.id);
  assert.equal(cache.isCached(key.record.id), true);
  await cache.getApiKey('0123456789abcdef');
  assert.equal(cache.isCached('0123456789abcdef'), false, 'a miss is not cached');
  clock.t += 5000;
  assert.equal(cache.isCached(key.record.id), false, 'expired');
  await cache.getApiKey(key.record.id);
  assert.equal(cache.isCached(key.record.id), true, 'looked up again');
  cache.forget(key.record.id);
  assert.equal(cache.isCached(key.record.id), false, 'forgotten');
  assert.deepEqual(seen, [true, false, true]);
});
