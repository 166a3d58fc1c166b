// The throttle of failed API authentications: malformed tokens cost nothing and are not counted,
// cached keys skip it, parallel misses from one address get at most maxFailures lookups, then 429
// with Retry-After and no lookup; a key that authenticated from the address is still looked up.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeyAuthenticator, newApiKey, type KeyLookup } from '../accounts/api-keys.js';
import { ApiKeyCache } from '../accounts/api-key-cache.js';
import { ApiError } from '../ingress/http/api-error.js';
import type { ApiKeyRecord } from '../store/platform-store.js';
import { ApiAuthThrottle } from './api-auth-throttle.js';

const clock = { t: 1_000_000, now() { return this.t; } };
const randomToken = (i: number) => `pl_${i.toString(16).padStart(16, '0')}_${'A'.repeat(43)}`;

function rig() {
  const records = new Map<string, ApiKeyRecord>();
  const lookups: string[] = [];
  const store: KeyLookup = {
    getApiKey: async (id) => { lookups.push(id); await new Promise((r) => setTimeout(r, 5)); return records.get(id) ?? null; },
    touchApiKey: async () => undefined,
  };
  const cache = new ApiKeyCache(store, clock, 5000);
  const throttle = new ApiAuthThrottle({ maxFailures: 5, failureWindow: 60_000, lockout: 120_000 }, clock,
    new ApiKeyAuthenticator(cache, clock), (id) => cache.isCached(id));
  const key = newApiKey({ account: 'acme', scopes: ['send'], now: clock.t });
  records.set(key.record.id, key.record);
  return { throttle, lookups, key, cache };
}

test('ApiAuthThrottle: parallel guesses from one address get maxFailures lookups, then 429 before any lookup', async () => {
  const { throttle, lookups, key } = rig();
  assert.equal(await throttle.authenticate('not-a-token', '192.0.2.1'), null);
  assert.equal(await throttle.authenticate(`${key.token}x`, '192.0.2.1'), null);
  assert.equal(lookups.length, 0, 'malformed: no lookup');
  const answers = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => throttle.authenticate(randomToken(i), '192.0.2.1')));
  assert.equal(lookups.length, 5, 'at most maxFailures lookups, whatever the concurrency');
  const refused = answers.filter((a) => a.status === 'rejected').map((a) => (a as PromiseRejectedResult).reason as ApiError);
  assert.equal(refused.length, 35);
  for (const e of refused) { assert.equal(e.status, 429); assert.equal(e.code, 'too_many_attempts'); assert.ok(e.retryAfterSeconds! >= 1); }
  await assert.rejects(throttle.authenticate(randomToken(99), '192.0.2.1'), (e: ApiError) => e.status === 429 && e.retryAfterSeconds === 120);
  assert.equal(lookups.length, 5);
  // The valid key from another address: looked up, served; then cached, so from the locked address too.
  assert.equal((await throttle.authenticate(key.token, '192.0.2.2'))?.id, key.record.id);
  assert.equal((await throttle.authenticate(key.token, '192.0.2.1'))?.id, key.record.id, 'a cached key skips the throttle');
  assert.equal(lookups.length, 6);
  // IPv6: the whole /64 is one client.
  for (let i = 0; i < 5; i++) assert.equal(await throttle.authenticate(randomToken(200 + i), `2001:db8::${i + 1}`), null);
  await assert.rejects(throttle.authenticate(randomToken(300), '2001:db8::ffff:1'), (e: ApiError) => e.status === 429);
});

test('ApiAuthThrottle: a key that authenticated from an address is still looked up there once its cache entry expired', async () => {
  const { throttle, lookups, key } = rig();
  assert.ok(await throttle.authenticate(key.token, '192.0.2.9'));
  for (let i = 0; i < 5; i++) assert.equal(await throttle.authenticate(randomToken(i), '192.0.2.9'), null);
  await assert.rejects(throttle.authenticate(randomToken(9), '192.0.2.9'), (e: ApiError) => e.status === 429);
  clock.t += 10_000; // past the cache's 5 s
  const before = lookups.length;
  assert.equal((await throttle.authenticate(key.token, '192.0.2.9'))?.id, key.record.id);
  assert.equal(lookups.length, before + 1);
});

test('ApiAuthThrottle: a store failure is not counted and is rethrown', async () => {
  let fail = true;
  const store: KeyLookup = { getApiKey: async () => { if (fail) throw new Error('down'); return null; }, touchApiKey: async () => undefined };
  const throttle = new ApiAuthThrottle({ maxFailures: 1, failureWindow: 60_000, lockout: 60_000 }, clock, new ApiKeyAuthenticator(store, clock), () => false);
  for (let i = 0; i < 3; i++) await assert.rejects(throttle.authenticate(randomToken(i), '192.0.2.5'), /down/);
  fail = false;
  assert.equal(await throttle.authenticate(randomToken(7), '192.0.2.5'), null);
  await assert.rejects(throttle.authenticate(randomToken(8), '192.0.2.5'), (e: ApiError) => e.status === 429);
});

test('ApiAuthThrottle: a client\'s first burst with a key not yet cached is served whole: one counted lookup, the rest wait for it', async () => {
  const { throttle, lookups, key } = rig();
  // 50 connections opened at once by a new client (bench/run.sh all's API step): more than maxFailures (5) in flight.
  const answers = await Promise.all(Array.from({ length: 50 }, () => throttle.authenticate(key.token, '192.0.2.50')));
  assert.ok(answers.every((k) => k?.id === key.record.id));
  assert.equal(lookups.length, 1, 'the parallel requests share one lookup');
  // The same unknown id sent in parallel is still bounded: maxFailures lookups, then 429.
  const unknown = randomToken(7);
  const guesses = await Promise.allSettled(Array.from({ length: 20 }, () => throttle.authenticate(unknown, '192.0.2.51')));
  assert.ok(lookups.length - 1 <= 5, `at most maxFailures lookups of the unknown id (${lookups.length - 1})`);
  assert.ok(guesses.some((g) => g.status === 'rejected' && (g.reason as ApiError).status === 429));
});
