import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  computeSignature, generateWebhookSecret, parseSignatureHeader, signPayload, standardKey, standardWebhookHeaders,
  standardWebhookId, verifySignature,
} from './webhook-signature.js';

const SECRET = 'whsec_test_secret';
const BODY = '{"events":[{"id":"ev_1","type":"delivered"}]}';
const NOW = Date.UTC(2026, 10, 28, 10, 0, 0);

describe('webhook signatures', () => {
  it('matches an independent HMAC of "<t>.<body>"', () => {
    const header = signPayload(SECRET, BODY, NOW + 999);
    const t = Math.floor(NOW / 1000);
    const mac = crypto.createHmac('sha256', SECRET).update(`${t}.${BODY}`).digest('hex');
    assert.equal(header, `t=${t},v1=${mac}`);
    assert.equal(computeSignature(SECRET, t, Buffer.from(BODY)), mac);
  });

  it('verifies a fresh signature, and a body given as bytes', () => {
    const header = signPayload(SECRET, BODY, NOW);
    assert.deepEqual(verifySignature(SECRET, header, BODY, NOW + 1000), { ok: true, timestampSec: Math.floor(NOW / 1000) });
    assert.equal(verifySignature(SECRET, header, Buffer.from(BODY), NOW).ok, true);
  });

  it('rejects a changed body, another secret, and a changed timestamp', () => {
    const header = signPayload(SECRET, BODY, NOW);
    assert.deepEqual(verifySignature(SECRET, header, BODY.replace('delivered', 'bounced'), NOW), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignature('whsec_other', header, BODY, NOW), { ok: false, reason: 'mismatch' });
    const t = Math.floor(NOW / 1000);
    const shifted = header.replace(`t=${t}`, `t=${t + 1}`);
    assert.deepEqual(verifySignature(SECRET, shifted, BODY, NOW), { ok: false, reason: 'mismatch' });
  });

  it('rejects replays older than 5 minutes and timestamps more than 5 minutes ahead', () => {
    const header = signPayload(SECRET, BODY, NOW);
    assert.equal(verifySignature(SECRET, header, BODY, NOW + 300_000).ok, true, 'exactly at the tolerance');
    assert.deepEqual(verifySignature(SECRET, header, BODY, NOW + 301_000), { ok: false, reason: 'too_old' });
    assert.deepEqual(verifySignature(SECRET, header, BODY, NOW - 301_000), { ok: false, reason: 'too_new' });
    assert.equal(verifySignature(SECRET, header, BODY, NOW + 20_000, 10).ok, false, 'custom tolerance');
  });

  it('accepts any of several v1 values (secret rotation) and ignores unknown schemes', () => {
    const header = signPayload(['whsec_new', SECRET], BODY, NOW);
    assert.equal(parseSignatureHeader(header).v1.length, 2);
    assert.equal(verifySignature(SECRET, header, BODY, NOW).ok, true);
    assert.equal(verifySignature('whsec_new', header, BODY, NOW).ok, true);
    assert.equal(verifySignature(SECRET, `v0=abc, ${header}, v2=zzz`, BODY, NOW).ok, true);
  });

  it('rejects malformed headers', () => {
    assert.deepEqual(verifySignature(SECRET, undefined, BODY, NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySignature(SECRET, '', BODY, NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySignature(SECRET, 'v1=' + 'a'.repeat(64), BODY, NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySignature(SECRET, `t=${Math.floor(NOW / 1000)}`, BODY, NOW), { ok: false, reason: 'no_signature' });
    assert.deepEqual(verifySignature(SECRET, `t=${Math.floor(NOW / 1000)},v1=abcd`, BODY, NOW), { ok: false, reason: 'no_signature' });
    assert.deepEqual(verifySignature(SECRET, `t=soon,v1=${'a'.repeat(64)}`, BODY, NOW), { ok: false, reason: 'malformed' });
  });

  it('generates whsec_ + 32 random bytes in standard base64 (what Standard Webhooks libraries decode)', () => {
    const a = generateWebhookSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(a.slice(6), 'base64').length, 32);
    assert.notEqual(a, generateWebhookSecret());
  });
});

describe('Standard Webhooks headers', () => {
  it('reproduce the reference vector of the Standard Webhooks test suite', () => {
    const h = standardWebhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '{"test": 2432232314}', 1614265330_000);
    assert.deepEqual(h, {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('one v1 signature per secret, space-separated; the key of an older base64url secret is its decoded bytes', () => {
    const key = crypto.randomBytes(32);
    const old = `whsec_${key.toString('base64url')}`;
    assert.ok(standardKey(old).equals(key));
    assert.ok(standardKey(`whsec_${key.toString('base64')}`).equals(key));
    const h = standardWebhookHeaders([generateWebhookSecret(), old], 'ev_1-ev_2', BODY, NOW);
    const sigs = h['webhook-signature']!.split(' ');
    assert.equal(sigs.length, 2);
    const expected = crypto.createHmac('sha256', key).update(`ev_1-ev_2.${NOW / 1000}.${BODY}`).digest('base64');
    assert.equal(sigs[1], `v1,${expected}`);
  });

  it('the id names the batch (first and last event) and never contains "."', () => {
    assert.equal(standardWebhookId(['ev_7']), 'ev_7-ev_7');
    assert.equal(standardWebhookId(['ev_7', 'ev_8', 'ev_12']), 'ev_7-ev_12');
    assert.throws(() => standardWebhookHeaders(SECRET, 'a.b', BODY, NOW));
  });
});
