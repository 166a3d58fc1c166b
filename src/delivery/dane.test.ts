import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { isUsableTlsa, lookupTlsa, verifyDane, type TlsaRecord } from './dane.js';
import type { SecureAnswer, SecureResolver } from './secure-resolver.js';

const der = (pem: string) => new X509Certificate(pem).raw;
const spki = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
const sha = (alg: 'sha256' | 'sha512', b: Buffer) => createHash(alg).update(b).digest();
const rec = (usage: number, selector: number, matchingType: number, data: Buffer): TlsaRecord => ({ usage, selector, matchingType, data });

async function cert(cn: string, opts: { ca?: { cert: string; key: string }; isCa?: boolean; names?: string[]; notAfter?: Date } = {}) {
  const p = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec', algorithm: 'sha256',
    ...(opts.ca ? { ca: opts.ca } : {}),
    ...(opts.notAfter ? { notAfterDate: opts.notAfter, notBeforeDate: new Date(opts.notAfter.getTime() - 86_400_000) } : {}),
    extensions: opts.isCa
      ? [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }]
      : [{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames: (opts.names ?? [cn]).map((value) => ({ type: 2 as const, value })) }],
  });
  return { cert: p.cert, key: p.private };
}

describe('verifyDane', () => {
  let leaf: { cert: string; key: string }; // self-signed, mx.example.test
  let other: { cert: string; key: string };
  let ca: { cert: string; key: string };
  let issued: { cert: string; key: string }; // signed by ca, for mx.example.test
  let expired: { cert: string; key: string }; // signed by ca, expired
  let now: number; // after the certificates were made: their notBefore is "now" at second precision

  before(async () => {
    leaf = await cert('mx.example.test');
    other = await cert('other.test');
    ca = await cert('DANE TA', { isCa: true });
    issued = await cert('mx.example.test', { ca });
    expired = await cert('mx.example.test', { ca, notAfter: new Date(Date.now() - 86_400_000) });
    now = Date.now() + 1000;
  });

  it('DANE-EE (3) matches the leaf by certificate or key, raw or hashed; no name or date checks', () => {
    const table: [TlsaRecord, boolean][] = [
      [rec(3, 0, 0, der(leaf.cert)), true],
      [rec(3, 0, 1, sha('sha256', der(leaf.cert))), true],
      [rec(3, 1, 1, sha('sha256', spki(leaf.cert))), true],
      [rec(3, 1, 2, sha('sha512', spki(leaf.cert))), true],
      [rec(3, 1, 0, spki(leaf.cert)), true],
      [rec(3, 1, 1, sha('sha256', spki(other.cert))), false],
      [rec(3, 1, 1, sha('sha256', der(leaf.cert))), false], // selector mixed up
      [rec(1, 1, 1, sha('sha256', spki(leaf.cert))), false], // PKIX-EE: unusable for SMTP
    ];
    for (const [r, ok] of table) {
      assert.equal(verifyDane([der(leaf.cert)], [r], ['unrelated.name'], now).ok, ok, `${r.usage} ${r.selector} ${r.matchingType}`);
    }
    assert.equal(verifyDane([der(expired.cert)], [rec(3, 1, 1, sha('sha256', spki(expired.cert)))], [], now).ok, true, 'EE ignores dates');
  });

  it('one matching record among several is enough', () => {
    const records = [rec(3, 1, 1, sha('sha256', spki(other.cert))), rec(3, 1, 1, sha('sha256', spki(leaf.cert)))];
    assert.deepEqual(verifyDane([der(leaf.cert)], records, [], now), { ok: true, matched: '3 1 1' });
  });

  it('DANE-TA (2): the chain must lead to the anchor, be in date and name the host', () => {
    const ta = rec(2, 0, 1, sha('sha256', der(ca.cert)));
    assert.deepEqual(verifyDane([der(issued.cert), der(ca.cert)], [ta], ['mx.example.test'], now), { ok: true, matched: '2 0 1' });
    assert.equal(verifyDane([der(issued.cert), der(ca.cert)], [rec(2, 1, 1, sha('sha256', spki(ca.cert)))], ['mx.example.test'], now).ok, true);
    const wrongName = verifyDane([der(issued.cert), der(ca.cert)], [ta], ['mx.other.test', 'other.test'], now);
    assert.deepEqual(wrongName, { ok: false, reason: 'the certificate is not valid for mx.other.test or other.test' });
    const stale = verifyDane([der(expired.cert), der(ca.cert)], [ta], ['mx.example.test'], now);
    assert.deepEqual(stale, { ok: false, reason: 'a certificate of the chain is expired or not yet valid' });
    const forged = verifyDane([der(leaf.cert), der(ca.cert)], [ta], ['mx.example.test'], now);
    assert.deepEqual(forged, { ok: false, reason: 'the certificate chain does not lead to the DANE trust anchor' });
  });

  it('DANE-TA with the full key in DNS ("2 1 0") and the anchor left out of the chain', () => {
    assert.equal(verifyDane([der(issued.cert)], [rec(2, 1, 0, spki(ca.cert))], ['mx.example.test'], now).ok, true);
    assert.equal(verifyDane([der(leaf.cert)], [rec(2, 1, 0, spki(ca.cert))], ['mx.example.test'], now).ok, false);
  });

  it('no certificate, or nothing matching', () => {
    assert.deepEqual(verifyDane([], [rec(3, 1, 1, Buffer.alloc(32))], [], now), { ok: false, reason: 'the server sent no certificate' });
    assert.deepEqual(verifyDane([der(leaf.cert)], [rec(3, 1, 1, Buffer.alloc(32))], [], now), { ok: false, reason: 'no TLSA record matches the certificate' });
  });
});

describe('isUsableTlsa', () => {
  const table: [number, number, number, boolean][] = [
    [3, 1, 1, true], [3, 0, 2, true], [2, 0, 0, true], [2, 1, 1, true],
    [0, 1, 1, false], [1, 1, 1, false], [4, 1, 1, false], [3, 2, 1, false], [3, 1, 3, false],
  ];
  for (const [u, s, m, want] of table) it(`${u} ${s} ${m} → ${want}`, () => assert.equal(isUsableTlsa(rec(u, s, m, Buffer.alloc(32))), want));
});

describe('lookupTlsa', () => {
  const tlsaAnswer = { type: 'TLSA' as const, name: '_25._tcp.mx.test', data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.alloc(32, 1) } };
  const resolver = (tlsa: SecureAnswer | Error, a: SecureAnswer | Error = { rcode: 'NOERROR', authenticated: false, answers: [] }): SecureResolver & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      query: async (name, type) => {
        asked.push(`${type} ${name}`);
        const r = type === 'TLSA' ? tlsa : a;
        if (r instanceof Error) throw r;
        return r;
      },
    };
  };

  it('validated records: secure', async () => {
    const r = resolver({ rcode: 'NOERROR', authenticated: true, answers: [tlsaAnswer] });
    assert.deepEqual(await lookupTlsa(r, 'mx.test', 25), { status: 'secure', records: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 1) }] });
    assert.deepEqual(r.asked, ['TLSA _25._tcp.mx.test']);
  });

  it('records without the AD bit, validated denial, or NXDOMAIN: none', async () => {
    assert.deepEqual(await lookupTlsa(resolver({ rcode: 'NOERROR', authenticated: false, answers: [tlsaAnswer] }), 'mx.test', 25), { status: 'none' });
    assert.deepEqual(await lookupTlsa(resolver({ rcode: 'NOERROR', authenticated: true, answers: [] }), 'mx.test', 25), { status: 'none' });
    assert.deepEqual(await lookupTlsa(resolver({ rcode: 'NXDOMAIN', authenticated: true, answers: [] }), 'mx.test', 25), { status: 'none' });
  });

  it('a failed lookup: failed for a signed host, none for an unsigned one or when nothing answers', async () => {
    const servfail: SecureAnswer = { rcode: 'SERVFAIL', authenticated: false, answers: [] };
    assert.deepEqual(await lookupTlsa(resolver(servfail, { rcode: 'NOERROR', authenticated: true, answers: [] }), 'mx.test', 25),
      { status: 'failed', reason: 'TLSA lookup for mx.test failed (SERVFAIL)' });
    assert.deepEqual(await lookupTlsa(resolver(servfail), 'mx.test', 25), { status: 'none' });
    const timeout = Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
    assert.deepEqual(await lookupTlsa(resolver(timeout, { rcode: 'NOERROR', authenticated: true, answers: [] }), 'mx.test', 25),
      { status: 'failed', reason: 'TLSA lookup for mx.test failed (ETIMEOUT)' });
    assert.deepEqual(await lookupTlsa(resolver(timeout, timeout), 'mx.test', 25), { status: 'none' });
  });
});
