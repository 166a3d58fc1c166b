// Key generation and import: the p= values receivers expect (SPKI for RSA, the raw 32 bytes for
// Ed25519), PEM import of PKCS#1 and PKCS#8 keys, and the keys DKIM cannot use.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, sign, createPrivateKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { defaultSelector, dkimRecordValue, generateDkimKey, importDkimKey, selectorsFor, toDkimKeys } from './dkim-keys.js';

describe('dkim-keys', () => {
  it('generates RSA-2048: PKCS#8 PEM, p= is the SPKI DER of the same key', async () => {
    const k = await generateDkimKey('rsa');
    assert.equal(k.algorithm, 'rsa');
    assert.match(k.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.equal(createPrivateKey(k.privateKey).asymmetricKeyDetails?.modulusLength, 2048);
    const pub = createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' });
    const sig = sign('sha256', Buffer.from('x'), k.privateKey);
    assert.ok(verify('sha256', Buffer.from('x'), pub, sig));
    assert.equal(dkimRecordValue(k), `v=DKIM1; k=rsa; p=${k.publicKey}`);
  });

  it('generates Ed25519: p= is the raw 32-byte public key (RFC 8463)', async () => {
    const k = await generateDkimKey('ed25519');
    const raw = Buffer.from(k.publicKey, 'base64');
    assert.equal(raw.length, 32);
    const spki = createPublicKey(k.privateKey).export({ type: 'spki', format: 'der' });
    assert.deepEqual(spki.subarray(-32), raw);
    assert.equal(dkimRecordValue(k), `v=DKIM1; k=ed25519; p=${k.publicKey}`);
  });

  it('imports PKCS#1 RSA and PKCS#8 Ed25519 PEM, deriving the same public key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pkcs1 = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const imported = importDkimKey(pkcs1);
    assert.equal(imported.algorithm, 'rsa');
    assert.equal(imported.publicKey, rsa.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
    assert.match(imported.privateKey, /BEGIN PRIVATE KEY/, 'stored as PKCS#8');
    const ed = generateKeyPairSync('ed25519');
    assert.equal(importDkimKey(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).algorithm, 'ed25519');
  });

  it('refuses keys DKIM cannot use: short RSA, EC, garbage, encrypted', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => importDkimKey(short), { code: 'ERR_DKIM_KEY', message: /512 bits is too short/ });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => importDkimKey(ec), { code: 'ERR_DKIM_KEY', message: /unsupported key type ec/ });
    assert.throws(() => importDkimKey('hello'), { code: 'ERR_DKIM_KEY' });
    const enc = generateKeyPairSync('ed25519').privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    assert.throws(() => importDkimKey(enc), { code: 'ERR_DKIM_KEY' });
  });

  it('names selectors: dated default, one key as given, a pair as -rsa / -ed25519', () => {
    assert.equal(defaultSelector(Date.UTC(2025, 6, 1, 23, 59)), 'pl20250701');
    assert.deepEqual(selectorsFor('s1', ['rsa']), ['s1']);
    assert.deepEqual(selectorsFor('s1', ['rsa', 'ed25519']), ['s1-rsa', 's1-ed25519']);
    const keys = toDkimKeys('S1', [{ algorithm: 'ed25519', privateKey: 'p', publicKey: 'k' }], 5, 'pending');
    assert.deepEqual(keys, [{ algorithm: 'ed25519', privateKey: 'p', publicKey: 'k', selector: 's1', createdAt: 5, state: 'pending' }]);
    assert.throws(() => toDkimKeys('bad_selector', [{ algorithm: 'rsa', privateKey: 'p', publicKey: 'k' }], 5, 'active'), { code: 'ERR_DKIM_KEY' });
  });
});
