import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixedSecrets } from './secret-ring.js';
import { clickUrl, isServableToken, MAX_TRACKED_URL, openPixelUrl, readTrackingToken, trackingToken, type TrackingRef } from './tracking-token.js';
import { unsubscribeToken } from './unsubscribe.js';

const current = fixedSecrets(Buffer.alloc(32, 1));
const base = { account: 'acme', messageId: '01JZ3K4M5N6P7Q8R9S0T', recipient: 'Bob@Example.com' };
const click: TrackingRef = { kind: 'click', ...base, url: 'https://shop.example/p?a=1&b=%C3%A9#top' };

test('open and click tokens round-trip, verify after a rotation, and are not each other', () => {
  const open = trackingToken(current, { kind: 'open', ...base });
  assert.deepEqual(readTrackingToken(current, open, 'open'), { kind: 'open', ...base });
  assert.deepEqual(readTrackingToken(fixedSecrets(Buffer.alloc(32, 9), Buffer.alloc(32, 1)), open, 'open'), { kind: 'open', ...base });
  assert.equal(readTrackingToken(fixedSecrets(Buffer.alloc(32, 2)), open, 'open'), null, 'another installation');
  const c = trackingToken(current, click);
  assert.deepEqual(readTrackingToken(current, c, 'click'), click);
  assert.equal(readTrackingToken(current, c, 'open'), null, 'a click token is not a pixel');
  assert.equal(readTrackingToken(current, open, 'click'), null, 'a pixel token is not a redirect');
  const unsub = unsubscribeToken(current, { account: 'acme', recipient: base.recipient, messageId: base.messageId, scope: 'broadcast' });
  assert.equal(readTrackingToken(current, unsub, 'click'), null, 'the unsubscribe MAC is in another domain');
});

test('a changed URL, a changed MAC character, padding or another spelling is refused', () => {
  const token = trackingToken(current, click);
  const [payload, mac] = token.split('.') as [string, string];
  const evil = Buffer.from(JSON.stringify({ k: 'c', a: 'acme', m: base.messageId, r: base.recipient, u: 'https://evil.example/' })).toString('base64url');
  assert.equal(readTrackingToken(current, `${evil}.${mac}`, 'click'), null, 'another link with the same MAC');
  for (let i = 0; i < mac.length; i++) {
    const changed = mac.slice(0, i) + (mac[i] === 'A' ? 'B' : 'A') + mac.slice(i + 1);
    assert.equal(readTrackingToken(current, `${payload}.${changed}`, 'click'), null, `MAC char ${i}`);
  }
  const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const lastBits = mac.slice(0, -1) + B64URL[B64URL.indexOf(mac.at(-1)!) ^ 1]; // a padding bit: the same 16 bytes, spelt otherwise
  assert.deepEqual(Buffer.from(lastBits, 'base64url'), Buffer.from(mac, 'base64url'));
  assert.equal(readTrackingToken(current, `${payload}.${lastBits}`, 'click'), null);
  for (const bad of ['', 'x', payload, `${payload}.${mac}.x`, `${payload}.${mac}=`, `${payload}=.${mac}`, 'a'.repeat(5000)]) {
    assert.equal(readTrackingToken(current, bad, 'click'), null, bad.slice(0, 20));
  }
});

test('a forged token whose link is not http(s) is refused even with a valid MAC (no javascript: redirect)', () => {
  const forged = trackingToken(current, { ...click, url: 'javascript:alert(1)' });
  assert.equal(readTrackingToken(current, forged, 'click'), null);
});

test('URLs: pixel ends in .gif, base URL slashes trimmed, long links make unservable tokens', () => {
  assert.equal(openPixelUrl('https://r.example/', 'T.M'), 'https://r.example/t/o/T.M.gif');
  assert.equal(clickUrl('https://r.example/mail//', 'T.M'), 'https://r.example/mail/t/c/T.M');
  const longest = trackingToken(current, { ...click, url: `https://x.example/${'a'.repeat(MAX_TRACKED_URL - 18)}`, recipient: `${'r'.repeat(64)}@${'d'.repeat(180)}.example` });
  assert.equal(isServableToken(longest), true, `${longest.length} characters`);
  assert.ok(longest.length < 2100, 'fits the listener\'s path parameter limit');
});
