import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ApiKeyRecord } from '../store/platform-store.js';
import { ApiKeyAuthenticator, hasScope, hashSecret, newApiKey, parseApiToken, secretMatches } from './api-keys.js';

test('newApiKey: token pl_<16 hex>_<43 base64url>, the record keeps only the SHA-256 of the secret', () => {
  const { record, token } = newApiKey({ account: 'acme', scopes: ['send', 'read', 'send'], name: 'ci', limits: { perSecond: 5 }, now: 1000 });
  assert.match(token, /^pl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const parsed = parseApiToken(token)!;
  assert.equal(parsed.id, record.id);
  assert.equal(record.secretHash, createHash('sha256').update(parsed.secret).digest('hex'));
  assert.ok(!JSON.stringify(record).includes(parsed.secret), 'the secret is not in the record');
  assert.deepEqual({ ...record, id: '', secretHash: '' }, {
    id: '', secretHash: '', account: 'acme', name: 'ci', scopes: ['send', 'read'], limits: { perSecond: 5 }, createdAt: 1000, lastUsedAt: null, revokedAt: null,
  });
  const other = newApiKey({ account: 'acme', scopes: ['read'], now: 1 });
  assert.notEqual(other.record.id, record.id);
  assert.notEqual(other.token, token);
  assert.equal(other.record.name, null);
  assert.deepEqual(other.record.limits, {});
});

test('newApiKey refuses no scope or an unknown scope', () => {
  assert.throws(() => newApiKey({ account: 'a', scopes: [], now: 0 }), { code: 'ERR_USAGE' });
  assert.throws(() => newApiKey({ account: 'a', scopes: ['send', 'root' as 'send'], now: 0 }), /not root/);
});

test('parseApiToken: garbage gives null (no lookup)', () => {
  const good = `pl_0123456789abcdef_${'A'.repeat(43)}`;
  assert.deepEqual(parseApiToken(good), { id: '0123456789abcdef', secret: 'A'.repeat(43) });
  for (const bad of [
    '', 'pl_', 'Bearer ' + good, good + ' ', ' ' + good, good + '\n', good + 'A', good.slice(0, -1),
    `pl_0123456789ABCDEF_${'A'.repeat(43)}`, `pl_0123456789abcde_${'A'.repeat(44)}`, `PL_0123456789abcdef_${'A'.repeat(43)}`,
    `pl_0123456789abcdef_${'A'.repeat(42)}=`, `pl_0123456789abcdef_${'A'.repeat(42)}+`, `pl_0123456789abcdef-${'A'.repeat(43)}`,
    `pl_0123456789abcdef_${'é'.repeat(43)}`, 'x'.repeat(100_000),
  ]) assert.equal(parseApiToken(bad), null, JSON.stringify(bad.slice(0, 80)));
  for (const notString of [undefined, null, 42, {}, ['pl_']]) assert.equal(parseApiToken(notString), null);
});

const recordFor = (secret: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
  id: '0123456789abcdef', account: 'acme', name: null, secretHash: hashSecret(secret), scopes: ['send'], limits: {},
  createdAt: 0, lastUsedAt: null, revokedAt: null, ...over,
});

test('secretMatches: the right secret only; a malformed stored hash never matches', () => {
  const secret = 'S'.repeat(43);
  assert.equal(secretMatches(recordFor(secret), secret), true);
  assert.equal(secretMatches(recordFor(secret), 'T' + secret.slice(1)), false);
  assert.equal(secretMatches(recordFor(secret), ''), false);
  assert.equal(secretMatches(recordFor(secret, { secretHash: '' }), ''), false);
  assert.equal(secretMatches(recordFor(secret, { secretHash: 'zz' }), secret), false);
  assert.equal(secretMatches(recordFor(secret, { secretHash: hashSecret(secret).slice(0, 62) }), secret), false);
});

test('secretMatches compares with crypto.timingSafeEqual (constant time), on equal-length digests', async () => {
  const crypto = await import('node:crypto');
  const source = (await import('node:fs')).readFileSync(new URL('./api-keys.js', import.meta.url), 'utf8');
  // The compiled function compares digests with timingSafeEqual only, never with === on strings.
  const body = source.slice(source.indexOf('function secretMatches'), source.indexOf('}', source.indexOf('function secretMatches')));
  assert.match(body, /timingSafeEqual\(a, b\)/);
  assert.doesNotMatch(body, /secretHash ===|=== hashSecret/);
  // and timingSafeEqual is only reached with equal lengths (it throws otherwise)
  assert.throws(() => crypto.timingSafeEqual(Buffer.alloc(1), Buffer.alloc(2)));
  assert.equal(secretMatches(recordFor('x', { secretHash: 'ab' }), 'x'), false);
});

class KeyStore {
  keys = new Map<string, ApiKeyRecord>();
  lookups = 0;
  touches: [string, number][] = [];
  touchFails = false;
  async getApiKey(id: string) { this.lookups++; return this.keys.get(id) ?? null; }
  async touchApiKey(id: string, at: number) { this.touches.push([id, at]); if (this.touchFails) throw new Error('busy'); }
}

test('ApiKeyAuthenticator: valid token → record; wrong secret, revoked, unknown id → null; garbage costs no lookup', async () => {
  const store = new KeyStore();
  const clock = { t: 0, now: () => clock.t };
  const auth = new ApiKeyAuthenticator(store, clock);
  const { record, token } = newApiKey({ account: 'acme', scopes: ['send'], now: 0 });
  store.keys.set(record.id, record);
  assert.equal((await auth.authenticate(token))?.id, record.id);
  assert.equal(await auth.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), null);
  assert.equal(await auth.authenticate(`pl_ffffffffffffffff_${token.slice(-43)}`), null);
  const lookups = store.lookups;
  assert.equal(await auth.authenticate('not a token'), null);
  assert.equal(await auth.authenticate(undefined), null);
  assert.equal(store.lookups, lookups, 'no store lookup for a malformed token');
  store.keys.set(record.id, { ...record, revokedAt: 5 });
  assert.equal(await auth.authenticate(token), null);
});

test('ApiKeyAuthenticator: last use recorded at first use, then at most once a minute per key; touch errors reported, not thrown', async () => {
  const store = new KeyStore();
  const clock = { t: 0, now: () => clock.t };
  const errors: unknown[] = [];
  const auth = new ApiKeyAuthenticator(store, clock, (err) => errors.push(err));
  const a = newApiKey({ account: 'acme', scopes: ['send'], now: 0 });
  const b = newApiKey({ account: 'acme', scopes: ['read'], now: 0 });
  store.keys.set(a.record.id, a.record);
  store.keys.set(b.record.id, b.record);
  await auth.authenticate(a.token); // t = 0: the very first use is recorded (even with a clock at 0)
  clock.t = 59_999;
  await auth.authenticate(a.token);
  await auth.authenticate(b.token);
  clock.t = 60_000;
  await auth.authenticate(a.token);
  await auth.authenticate(a.token);
  assert.deepEqual(store.touches, [[a.record.id, 0], [b.record.id, 59_999], [a.record.id, 60_000]]);
  store.touchFails = true;
  clock.t = 200_000;
  assert.equal((await auth.authenticate(a.token))?.id, a.record.id, 'a failed touch does not fail authentication');
  await new Promise((r) => setImmediate(r));
  assert.equal(errors.length, 1);
});

test('hasScope: admin implies every scope', () => {
  const k = recordFor('x', { scopes: ['read'] });
  assert.equal(hasScope(k, 'read'), true);
  assert.equal(hasScope(k, 'send'), false);
  assert.equal(hasScope({ ...k, scopes: ['admin'] }, 'send'), true);
});
